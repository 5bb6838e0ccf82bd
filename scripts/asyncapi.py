"""Write docs/asyncapi.yaml from the event catalogue: `python -m scripts.asyncapi`."""

from pathlib import Path

import yaml

from libs.common.events.catalogue import asyncapi

OUT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.yaml"

if __name__ == "__main__":
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(yaml.safe_dump(asyncapi(), allow_unicode=True, sort_keys=False))
    print(f"wrote {OUT}")
