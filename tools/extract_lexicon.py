"""Write ``models/lexicon_ar.txt``, the Arabic word list of the spelling corrector, from wordfreq.

The list is wordfreq's Arabic "small" list (Robyn Speer, https://github.com/rspeer/wordfreq):
every word at or above ``--min-zipf`` that ArASL fingerspelling can spell (Arabic letters only,
at least two signs), with its Zipf frequency (log10 of uses per billion words). wordfreq's code
is Apache-2.0 and its data CC BY-SA 4.0, so this extract is CC BY-SA 4.0 too (see
``models/LEXICON.md``); it ships in ``models/`` so the daemon needs neither wordfreq (a 57 MB
wheel) nor a network at run time. Regenerate it with::

    pip install wordfreq==3.1.1      # in any environment; edge-arasl does not depend on it
    python tools/extract_lexicon.py --min-zipf 3.5
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from edge_arasl.errors import UserError
from edge_arasl.lexicon import spell

OUT = Path(__file__).resolve().parent.parent / "models" / "lexicon_ar.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-zipf", type=float, default=3.5, help="rarest word kept")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import wordfreq  # only this tool needs it

    freqs = wordfreq.get_frequency_dict("ar", wordlist="small")
    kept: list[tuple[float, str]] = []
    for word, freq in freqs.items():
        zipf = math.log10(freq) + 9
        if zipf < args.min_zipf:
            continue
        try:
            signs = spell(word)
        except UserError:
            continue  # digits, Latin, a standalone hamza: not fingerspelled
        if len(signs) >= 2:
            kept.append((zipf, word))
    kept.sort(key=lambda item: (-item[0], item[1]))
    version = getattr(wordfreq, "__version__", "3.1.1")
    header = [
        f"# wordfreq {version} Arabic 'small' list, Zipf >= {args.min_zipf:g}, spellable words of"
        " two or more signs: word<TAB>Zipf frequency.",
        "# CC BY-SA 4.0: data by Robyn Speer's wordfreq and its sources; see models/LEXICON.md.",
        "# Written by tools/extract_lexicon.py.",
    ]
    lines = [*header, *(f"{word}\t{zipf:.2f}" for zipf, word in kept)]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(kept)} words")


if __name__ == "__main__":
    main()
