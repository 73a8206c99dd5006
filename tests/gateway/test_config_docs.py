"""The README's configuration reference is rendered from the config rows: a key added, renamed or
re-documented in a row and not re-rendered into gateway/README.md fails here."""

import pathlib

from lpwa.gateway import config

README = pathlib.Path(config.__file__).with_name("README.md")


def _readme_block():
    text = README.read_text(encoding="utf-8")
    start = text.index(config.README_BEGIN)
    end = text.index(config.README_END, start) + len(config.README_END)
    return text[start:end]


def test_readme_reference_is_the_rendered_rows():
    assert _readme_block() == config.reference_markdown(), \
        "gateway/README.md config reference is stale: paste lpwa.gateway.config.reference_markdown()"


def test_every_key_has_one_reference_line():
    lines = config.reference_markdown().splitlines()
    for heading, rows in config.reference_tables():
        for key in rows:
            assert sum(line.startswith("| `%s.%s` |" % (heading, key)) for line in lines) == 1, (heading, key)


def test_required_keys_render_as_required():
    lines = config.reference_markdown().splitlines()
    assert any(line.startswith("| `[[devices]].key` | str | required |") for line in lines)
    assert any(line.startswith("| `mqtt.qos` | int | `1` |") for line in lines)


def test_cli_prints_the_readme_block(capsys):
    from lpwa.tools.cli import main

    assert main(["gateway", "config-reference"]) == 0
    assert capsys.readouterr().out.strip() == _readme_block()
