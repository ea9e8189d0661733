"""``make bench-ai``: intent quality on the held-out half, latency on one core, load time.

Runs the built-in intent set against the held-out half of bench/ai/intents.jsonl, then a
few-shot set built only from the other half (what a user defining intents by examples gets).
Latency is per message, end to end through ``AiService.classify_intent``, pinned to one CPU.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench" / "ai" / "intents.jsonl"


def main() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    started = time.perf_counter()
    from cauce.ai import AiService, Intent, IntentSet, builtin_intent_set
    from cauce.ai.builtin_intents import BUILTIN_INTENT_NAMES
    from cauce.ai.embedder import UseEncoder, get_encoder
    from cauce.ai.evaluation import load_examples, score, split

    encoder = get_encoder()
    load_total = time.perf_counter() - started
    model_load = encoder.load_seconds if isinstance(encoder, UseEncoder) else float("nan")
    model_cpu = encoder.load_cpu_seconds if isinstance(encoder, UseEncoder) else float("nan")
    service = AiService(encoder=encoder)
    labels = list(BUILTIN_INTENT_NAMES)
    train, held_out = split(load_examples(DATA))
    builtin = builtin_intent_set()

    service.classify_intent("hola", builtin)  # embed the built-in examples once, as in a worker
    latencies: list[float] = []
    pairs: list[tuple[str, str | None]] = []
    for example in held_out:
        t0 = time.perf_counter()
        result, _ = service.classify_intent(example.text, builtin)
        latencies.append((time.perf_counter() - t0) * 1000)
        pairs.append((example.intent, result.intent))
    report = score(labels, pairs)

    few_shot = IntentSet(intents=[
        Intent(name=name, examples=[e.text for e in train if e.intent == name]) for name in labels
    ])
    few_pairs = [(e.intent, service.classify_intent(e.text, few_shot)[0].intent) for e in held_out]
    few_report = score(labels, few_pairs)

    by_lang = {}
    for lang in sorted({e.lang for e in held_out}):
        subset = [(t, p) for (t, p), e in zip(pairs, held_out, strict=True) if e.lang == lang]
        by_lang[lang] = score(labels, subset)

    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    unsure = sum(1 for _, p in pairs if p is None)

    print(f"machine   {platform.machine()} {platform.processor() or ''} "
          f"cpus={os.cpu_count()} python={platform.python_version()} "
          f"date={datetime.now(UTC):%Y-%m-%d %H:%M}Z")
    print(f"model     {encoder.name} {encoder.version} (1 BLAS thread, pinned to 1 core)")
    print(f"data      {len(train) + len(held_out)} messages, held-out {len(held_out)} "
          f"({', '.join(f'{k}={v.total}' for k, v in by_lang.items())})")
    print(f"load      model {model_load:.2f} s wall, {model_cpu:.2f} s CPU "
          f"(import + load {load_total:.2f} s wall)")
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine load average at start of run: {load_avg:.1f}")
    print()
    print("built-in intents on the held-out half")
    print(f"  accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}   "
          f"unsure {unsure}/{report.total}")
    for lang, sub in by_lang.items():
        print(f"  {lang}: accuracy {sub.accuracy:.3f} ({sub.correct}/{sub.total})")
    print(f"  latency per message: p50 {p50:.2f} ms   p95 {p95:.2f} ms   "
          f"max {latencies[-1]:.2f} ms")
    print()
    print("per-intent F1: " + "  ".join(f"{label} {report.f1(label):.2f}" for label in labels))
    print()
    print(report.format_confusion())
    print()
    print("few-shot intents built from the train half only (13 examples per intent)")
    print(f"  accuracy {few_report.accuracy:.3f}   macro-F1 {few_report.macro_f1:.3f}")
    targets = report.macro_f1 >= 0.85 and p95 <= 20 and model_load <= 3
    print()
    print("targets (macro-F1 >= 0.85, p95 <= 20 ms, load <= 3 s): "
          + ("met" if targets else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
