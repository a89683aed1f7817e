"""`python -m crawler.replica [--port-base N]`: serve the replica until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from provnews.crawler.replica.api import ReplicaServer
from provnews.crawler.replica.sitegen import DEFAULT_SITES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provnews.crawler.replica", description=__doc__)
    parser.add_argument("--port-base", type=int, default=None, help="first port (sites use N, N+1, ...)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--articles", type=int, default=24, help="articles per site")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sites", nargs="+", default=list(DEFAULT_SITES), choices=list(DEFAULT_SITES))
    parser.add_argument("--write-sites", metavar="PATH", help="also write the site registry TOML here")
    args = parser.parse_args(argv)
    replica = ReplicaServer(args.sites, args.articles, args.seed, args.host, port_base=args.port_base)
    with replica:
        for site_id in replica.site_ids:
            print(f"{site_id:<10} {replica.base_url(site_id)}", flush=True)
        if args.write_sites:
            with open(args.write_sites, "w", encoding="utf-8") as fh:
                fh.write(replica.sites_toml())
            print(f"site registry written to {args.write_sites}", flush=True)
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        # explicit handlers: Ctrl-C and SIGTERM both stop cleanly (also when SIGINT was ignored)
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        print("serving; press Ctrl-C to stop", flush=True)
        while not stop.wait(0.5):
            pass
        print("stopping", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
