"""The simulated WhatsApp side in-process: linking rules, QR lifecycle, what pages are told."""

from __future__ import annotations

import queue
import re
from collections.abc import Iterator

import pytest

from simulator.messages import Inbound, InvalidInput, build_inbound, decode_media, new_pairing_code, new_qr
from simulator.world import Conflict, NotFound, World
from tests.support.waiting import wait_until


@pytest.fixture
def world() -> Iterator[World]:
    """Return a world whose QRs rotate fast."""
    the_world = World(qr_interval=0.2, qr_idle_after=3)
    yield the_world
    the_world.close()


def drain(stream: queue.Queue) -> list[tuple[str, dict]]:
    """Return what a page stream holds right now."""
    items = []
    while not stream.empty():
        items.append(stream.get_nowait())
    return items


def current_qr(world: World, device_id: str) -> str:
    """Return the device's QR as the control API lists it."""
    return next(d["qr"] for d in world.devices() if d["deviceId"] == device_id)


def test_qr_and_pairing_code_formats() -> None:
    assert re.fullmatch(
        r"2@[A-Za-z0-9+/]{60},[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}=", new_qr()
    )
    assert re.fullmatch(r"[A-HJ-NP-TV-Z2-9]{8}", new_pairing_code())


def test_decode_media_reads_the_size_and_mimetype() -> None:
    assert decode_media("data:image/png;base64,AAAA") == ("image/png", 3)
    assert decode_media("data:;base64,") == ("", 0)
    for bad in ("AAAA", "data:image/png,AAAA", "data:image/png;base64,A"):
        with pytest.raises(InvalidInput):
            decode_media(bad)


def test_a_closed_page_shows_no_qr(world: World) -> None:
    stream = world.subscribe("dev", 0)
    qr = drain(stream)[0][1]["qr"]

    world.unsubscribe("dev", stream)

    assert current_qr(world, "dev") is None
    with pytest.raises(NotFound):
        world.scan(qr, "628100000001", None)


def test_a_rotated_qr_can_no_longer_be_scanned(world: World) -> None:
    stream = world.subscribe("dev", 0)
    first = current_qr(world, "dev")

    wait_until(lambda: current_qr(world, "dev") not in (first, None), 5)

    with pytest.raises(NotFound):
        world.scan(first, "628100000001", None)
    assert [kind for kind, _ in drain(stream)].count("qr") >= 1


def test_the_qr_goes_idle_until_refreshed(world: World) -> None:
    stream = world.subscribe("dev", 0)

    wait_until(lambda: any(kind == "idle" for kind, _ in list(stream.queue)), 5)

    assert current_qr(world, "dev") is None
    assert world.refresh_qr("dev") == current_qr(world, "dev") is not None


def test_linking_a_second_device_logs_out_the_first(world: World) -> None:
    one, two = world.subscribe("one", 0), world.subscribe("two", 0)
    world.scan(current_qr(world, "one"), "628100000001", "Bot")
    drain(one)

    world.scan(current_qr(world, "two"), "628100000001", None)

    assert [kind for kind, _ in drain(one)][:2] == ["logout", "qr"]
    assert [kind for kind, _ in drain(two)][-1] == "linked"
    assert world.account("628100000001")["deviceId"] == "two"


def test_messages_wait_for_a_page_and_come_once(world: World) -> None:
    stream = world.subscribe("dev", 0)
    world.scan(current_qr(world, "dev"), "628100000001", None)
    world.unsubscribe("dev", stream)

    first = world.inbound("628100000001", Inbound.model_validate({"from": "628111", "body": "1"}))
    again = world.subscribe("dev", 0)
    delivered = [data for kind, data in drain(again) if kind == "message"]
    later = world.subscribe("dev", delivered[0]["seq"])

    assert [d["message"]["id"]["_serialized"] for d in delivered] == [first["id"]]
    assert [kind for kind, _ in drain(later)] == ["hello"]


def test_inbound_needs_a_linked_device_and_valid_fields(world: World) -> None:
    world.auth_failure("628100000002", None)

    with pytest.raises(Conflict):
        world.inbound("628100000002", Inbound.model_validate({"from": "628111"}))
    with pytest.raises(NotFound):
        world.inbound("628100000099", Inbound.model_validate({"from": "628111"}))
    with pytest.raises(ValueError, match="type must be"):
        Inbound.model_validate({"from": "628111", "type": "hologram"})


def test_inbound_location_and_media_fields_are_built() -> None:
    spec = Inbound.model_validate(
        {
            "from": "628111",
            "type": "location",
            "location": {"latitude": -6.2, "longitude": 106.8, "name": "Office"},
        }
    )
    message = build_inbound(spec, "628999@c.us")
    assert (message["lat"], message["lng"], message["loc"]) == (-6.2, 106.8, "Office")
    with pytest.raises(ValueError):
        Inbound.model_validate(
            {"from": "628111", "type": "location", "location": {"latitude": 91, "longitude": 0}}
        )
    image = Inbound.model_validate({"from": "628111", "type": "image", "media": {"data": "AAEC"}})
    assert image.media_bytes() == b"\x00\x01\x02"
