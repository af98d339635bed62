"""Names of event objects on object storage and the covering rule (DESIGN.md section 8)."""

from __future__ import annotations

from trackreport import segments


def test_names_round_trip() -> None:
    seg = segments.parse(segments.segment_name("123-abcdef012345", 7))
    assert seg is not None and (seg.writer, seg.first, seg.last, seg.compacted) == (
        "123-abcdef012345", 7, 7, False)
    comp = segments.parse(segments.compacted_name("123-abcdef012345", 1, 9))
    assert comp is not None and (comp.first, comp.last, comp.compacted) == (1, 9, True)
    assert segments.parse("events-123-abcdef012345.jsonl") is None  # a plain file: read as is
    assert segments.parse("events-w.c5-2.jsonl") is None  # an empty range is no object


def test_a_wider_compacted_object_hides_what_it_covers() -> None:
    names = [segments.segment_name("w", i) for i in range(1, 6)]
    names += [segments.compacted_name("w", 1, 3), segments.compacted_name("w", 1, 5),
              segments.segment_name("v", 1), segments.compacted_name("v", 2, 3),
              "events-plain.jsonl"]
    assert segments.visible(names) == sorted([
        "events-w.c1-5.jsonl", "events-v-000001.jsonl", "events-v.c2-3.jsonl",
        "events-plain.jsonl"])
    assert segments.superseded(names) == sorted(
        [segments.segment_name("w", i) for i in range(1, 6)] + ["events-w.c1-3.jsonl"])


def test_the_same_range_twice_is_not_covered() -> None:
    names = ["events-w.c1-2.jsonl", "events-w.c1-2.jsonl"]
    assert segments.visible(names) == names
