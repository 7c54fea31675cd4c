"""Run the WhatsApp Web simulator: `python -m simulator --port 8070`."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
from types import FrameType

from werkzeug.serving import WSGIRequestHandler, make_server

from simulator.app import create_app
from simulator.world import World


class QuietHandler(WSGIRequestHandler):
    """Keep connections alive between fetches and log errors only, not every request."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """Send small responses at once: headers and body go out as separate writes."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the per-request access log line (thousands of sends per benchmark)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8070, help="port to listen on (default 8070)")
    parser.add_argument(
        "--qr-interval", type=float, default=20.0, help="seconds between QR rotations (default 20)"
    )
    parser.add_argument(
        "--qr-idle-after",
        type=int,
        default=0,
        help="stop rotating after this many QRs until the page asks for a new one (default 0: never)",
    )
    parser.add_argument(
        "--ready-delay",
        type=float,
        default=0.05,
        help="seconds a page takes from login to ready, like loading chats (default 0.05)",
    )
    parser.add_argument(
        "--ack-delay",
        type=float,
        default=0.1,
        help="seconds until a peer's phone receives a send (ack delivered); negative: never (default 0.1)",
    )
    parser.add_argument(
        "--read-delay",
        type=float,
        default=-1.0,
        help="seconds from delivered to read (voice notes: also played); negative: never (default)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Serve the simulator until SIGTERM or Ctrl-C."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    world = World(
        qr_interval=args.qr_interval,
        ready_delay=args.ready_delay,
        qr_idle_after=args.qr_idle_after,
        ack_delay=args.ack_delay if args.ack_delay >= 0 else None,
        read_delay=args.read_delay if args.read_delay >= 0 else None,
    )
    server = make_server(args.host, args.port, create_app(world), threaded=True, request_handler=QuietHandler)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"simulator listening on http://{args.host}:{server.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        world.close()
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
