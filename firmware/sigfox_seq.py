"""The node's Sigfox message counter, kept in step with the modem's own sequence number.

Sealed compact frames (codecs/FRAMES.md) are encrypted with a 32-bit counter whose low 12 bits
the gateway only learns from the Sigfox callback's `seqNumber`, so the node's counter must have
those bits equal to the seqNumber the modem gives the frame. The modem keeps its sequence
number in its own NVM and adds one per uplink (12-bit wrap); the Wisol AT set the driver speaks
has no documented command to read it, so the node mirrors it: the counter advances exactly when
an `AT$SF` is handed to the modem, never in blocks (the frame counter's block reservation would
skip ahead after a power loss and leave every later frame undecryptable).

Durability: RTC slot "sfc" and a flash file, both written before the `AT$SF` leaves (one small
flash write per uplink; Sigfox allows about 140 a day). A reset during the send therefore
resumes at "sent", which is what the modem did unless the same power loss also cut it before its
own NVM write. A module that answers ERROR did not send, so the counter steps back.
"""

from lpwa.firmware.store import pack_word, unpack_word


class SigfoxCounter:
    """take() -> the counter for the next frame (not yet committed); sending() commits it just
    before the modem gets the frame; failed(sent) steps back when the modem refused it."""

    def __init__(self, rtc_slots, flash, first_seq=1):
        self.rtc = rtc_slots
        self.flash = flash
        value = unpack_word(rtc_slots.get("sfc"))
        if value is None:
            value = unpack_word(flash.read())
        self.cold = value is None
        self.next = first_seq & 0xFFF if value is None else value
        self.pending = None

    def _write(self, value):
        raw = pack_word(value)
        self.rtc.put("sfc", raw)
        self.rtc.flush()
        self.flash.write(raw)

    def take(self):
        """The counter the next uplink will have: low 12 bits == the modem's next seqNumber."""
        self.pending = self.next
        return self.next

    def peek(self):
        """One past the last counter handed to the modem (CounterStore's peek)."""
        return self.next

    def sending(self):
        """The frame of take() goes to the modem now: commit it first (a reset mid-send keeps it)."""
        if self.pending is not None and self.pending == self.next:
            self.next = (self.next + 1) & 0xFFFFFFFF
            self._write(self.next)
        self.pending = None

    def failed(self, modem_sent):
        """The send raised: unless the modem may have sent it (no answer), step back one."""
        if not modem_sent:
            self.next = (self.next - 1) & 0xFFFFFFFF
            self._write(self.next)
