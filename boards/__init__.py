"""Board profiles: pin maps and radio chips."""
