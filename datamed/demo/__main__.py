"""``python -m datamed.demo OUT_DIR``: write the synthetic demo raw folder."""

import argparse
import sys
from pathlib import Path

from datamed.demo import write_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m datamed.demo", description="write the synthetic demo raw folder")
    parser.add_argument("out", metavar="OUT_DIR", help="folder to write (owned files are replaced)")
    args = parser.parse_args(argv)
    try:
        summary = write_demo(Path(args.out))
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for path, count in summary.items():
        print(f"{count:6d}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
