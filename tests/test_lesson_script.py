"""em_core.lesson_script: the instructor's script format, the shipped default, and every bad input's one line."""

from __future__ import annotations

import pytest

from em_core import lesson_script
from em_core.data import BUILTIN
from em_core.errors import DataError
from em_core.lesson_script import Highlight, ScriptState, parse_script, read_script

GOOD = """\
# a comment
title: First
page: em2d
dataset: toy | demo-2d
k: 3

title: Second
page: matrix
dataset: demo-small
k: 4
seed: 7
iteration: end
after: estep
highlight: cell 3, 2
notes: line one
notes: line two
"""


def test_a_good_script_reads_every_field():
    script = parse_script(GOOD, "good.txt")
    first, second = script.states
    assert first == ScriptState("First", "em2d", ("toy", "demo-2d"), 3, line=2)
    assert second.page == "matrix" and second.datasets == ("demo-small",)
    assert (second.k, second.seed, second.iteration, second.after_estep) == (4, 7, None, True)
    assert second.highlight == Highlight("cell", (2, 1)) and second.highlight.text == "user 3, item 2"
    assert second.notes == ("line one", "line two")
    assert second.line == 7


def test_the_shipped_default_is_a_fifteen_minute_lecture_on_any_machine():
    script = lesson_script.load_script("default")
    assert 8 <= len(script.states) <= 15
    assert lesson_script.shipped_scripts()[0] == "default"
    pages = {state.page for state in script.states}
    assert pages == set(lesson_script.PAGES)  # it visits every kind of page
    for state in script.states:
        assert state.notes, state.title  # every state has speaker notes
        assert state.datasets[-1] in BUILTIN  # a built-in set when the course files are absent
        lesson_script.resolve_dataset(state, list(BUILTIN))
    minutes = sum(int(state.notes[0].split(" min)")[0].strip("(")) for state in script.states)
    assert minutes == 15


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "my.txt: no state found"),
        ("# only a comment\n\n", "my.txt: no state found"),
        ("title First\n", "my.txt line 1: 'title First' has no ':'; write key: value"),
        ("title: a\npages: em2d\n", "my.txt line 2: unknown key 'pages'; use one of title, page"),
        ("title: a\ntitle: b\n", "my.txt line 2: a second title in one state; leave a blank line between states"),
        ("title: a\npage: em2d\ndataset: toy\n", "my.txt state starting at line 1: no k; every state needs"),
        ("title: a\npage: slides\n", "my.txt line 2: page 'slides' is not one of kmeans, em2d"),
        ("title:\n", "my.txt line 1: title has no value"),
        ("title: " + "x" * 81 + "\n", "my.txt line 1: the title has 81 characters; keep it to 80"),
        ("title: a\ndataset: ../etc/passwd\n", "my.txt line 2: dataset '../etc/passwd' is not a data set name"),
        ("title: a\nk: three\n", "my.txt line 2: k is 'three', not a whole number; write k: 1"),
        ("title: a\nk: 0\n", "my.txt line 2: k is 0, outside 1..200"),
        ("title: a\nk: -2\n", "my.txt line 2: k is '-2', not a whole number"),
        ("title: a\nseed: 4294967296\n", "my.txt line 2: seed is 4294967296, outside 0..4294967295"),
        ("title: a\niteration: 1001\n", "my.txt line 2: iteration is 1001, outside 0..1000"),
        ("title: a\niteration: last\n", "my.txt line 2: iteration is 'last', not a whole number"),
        ("title: a\nafter: both\n", "my.txt line 2: after is 'both'; write after: estep or after: mstep"),
        ("title: a\nhighlight: star 3\n", "my.txt line 2: highlight 'star 3' is not understood"),
        ("title: a\nhighlight: point 0\n", "my.txt line 2: highlight 'point 0' needs one number from 1"),
        ("title: a\nhighlight: cell 3\n", "my.txt line 2: highlight 'cell 3' needs two numbers from 1"),
        ("title: a\nhighlight: point\n", "my.txt line 2: highlight 'point' is not understood"),
    ],
)
def test_every_bad_script_gets_one_line_naming_file_line_and_fix(text, message):
    with pytest.raises(DataError) as caught:
        parse_script(text, "my.txt")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_too_many_states_are_refused():
    block = "title: a\npage: em2d\ndataset: toy\nk: 3\n\n"
    with pytest.raises(DataError, match="more than 100 states; split the lecture"):
        parse_script(block * 101, "long.txt")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"title: a\n" + b"#" * 70_000, "big.txt: 70,009 bytes; a script is at most 65,536 bytes"),
        (b"title: caf\xe9\n", "big.txt line 1: byte 11 is not UTF-8 text; save the script as UTF-8"),
    ],
)
def test_an_upload_is_checked_for_size_and_encoding(content, message):
    with pytest.raises(DataError, match=message):
        read_script(content, "big.txt")


def test_a_byte_order_mark_is_fine():
    assert read_script(b"\xef\xbb\xbf" + GOOD.encode(), "bom.txt").states[0].title == "First"


@pytest.mark.parametrize("name", ["nope", "../README", "default.txt", ""])
def test_an_unknown_or_crafted_script_name_is_refused(name):
    with pytest.raises(DataError, match="the shipped ones are default"):
        lesson_script.load_script(name)


def test_a_state_is_checked_against_the_data_set_it_resolves_to():
    state = parse_script("title: a\npage: em2d\ndataset: toy | demo-2d\nk: 3\nhighlight: point 301\n").states[0]
    assert lesson_script.resolve_dataset(state, ["demo-2d", "demo-small"]) == "demo-2d"
    with pytest.raises(DataError, match=r"state 'a' \(line 1\): highlight point 301 is outside demo-2d's 1..300"):
        lesson_script.check_against(state, 300, 2, "demo-2d")
    with pytest.raises(DataError, match="needs toy or demo-2d, none available here; add a built-in set"):
        lesson_script.resolve_dataset(state, ["demo-small"])
    big_k = state._replace(k=301, highlight=None)
    with pytest.raises(DataError, match="k 301 is more than the 300 rows of demo-2d; lower k"):
        lesson_script.check_against(big_k, 300, 2, "demo-2d")
