"""Homophone grouping at national scale: reading keys of N names and the look-up index over them.

Run by hand: ``python benchmarks/bench_names.py [N]`` (default 1,000,000). Names are made up
from common characters (some polyphonic) and road 通名, so the mix resembles a gazetteer.
"""
import itertools
import random
import sys
import time

from diming.geonames.pinyin import reading_keys
from diming.geonames.rules import build_index


def names(n: int) -> list[str]:
    rng = random.Random(1)
    chars = "长重朝乐行华和沙石海山河湖江桥东西南北中新大安平康宁阳光明春秋松竹梅兰青云泉林杏花园丰泰福兴盛龙凤"
    generics = ["路", "街", "大道", "巷", "大街", "里"]
    out = []
    for a, b, c in itertools.product(chars, repeat=3):
        out.append(a + b + c + rng.choice(generics))
        out.append(a + b + rng.choice(generics))
    while len(out) < n:
        out.append("".join(rng.choices(chars, k=rng.choice((2, 3, 4)))) + rng.choice(generics))
    return out[:n]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    data = names(n)
    t = time.perf_counter()
    total = sum(len(reading_keys(name)) for name in data)
    keys_s = time.perf_counter() - t
    t = time.perf_counter()
    index = build_index({"layer": "roads", "id": i, "name": name} for i, name in enumerate(data))
    index_s = time.perf_counter() - t
    shared = sum(1 for group in index["reading"].values() if len({r["name"] for r in group}) > 1)
    print(f"{n:,} names: reading_keys {keys_s:.1f} s ({total / n:.2f} keys a name), "
          f"build_index {index_s:.1f} s, {shared:,} reading keys shared by different names")


if __name__ == "__main__":
    main()
