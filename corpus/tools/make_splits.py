"""Write corpus/annotated/splits.json from a writer → split assignment.

Splits are by writer, so the test split's writers appear nowhere else: the figures on test are
figures on writing the matcher was never trained or tuned on. Run after adding narratives:
    python corpus/tools/make_splits.py
"""

from __future__ import annotations

import json
from pathlib import Path

GOLD = Path(__file__).resolve().parents[1] / "annotated"
WRITER_SPLITS = {
    "train": [
        "w00-inhouse",
        "w01-steel-hr-clerk",
        "w03-process-engineer",
        "w05-literary-teacher",
        "w07-award-consultant",
    ],
    "dev": ["w04-hospital-office", "w08-startup-engineer"],
    # Held out: a newspaper reporter's third-person stories and a township clerk's plain, often thin
    # filings — two voices unlike any training writer's. Never tuned on.
    "test": ["w02-city-reporter", "w06-township-clerk"],
}


def main() -> None:
    split_of = {writer: split for split, writers in WRITER_SPLITS.items() for writer in writers}
    splits: dict[str, list[str]] = {split: [] for split in WRITER_SPLITS}
    for path in sorted(GOLD.glob("*.gold.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        splits[split_of[gold["writer"]]].append(gold["doc"])
    data = {
        "_comment": "Fixed split of the annotated corpus, by writer (corpus/tools/make_splits.py). "
        "Tune on train/dev only; test is reported, never tuned on.",
        "writers": WRITER_SPLITS,
        **splits,
    }
    (GOLD / "splits.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(", ".join(f"{split} {len(names)}" for split, names in splits.items()))


if __name__ == "__main__":
    main()
