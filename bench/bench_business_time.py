"""Business-time due dates for a 100,000-contact broadcast: how long the per-contact math takes.

Every contact of a broadcast that waits "7 days, then Mon-Fri 05:00-17:00, skipping holidays"
gets its own due time, in its own timezone and country. This measures that computation (and
deriving the timezone from the phone number) on one core, with warm holiday caches, as the
runtime sees it after the first few contacts.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import UTC, datetime, timedelta

from cauce.engine.business_time import BusinessWindow, next_business_time, timezone_for_phone

CONTACTS = 100_000
# (timezone, country, phone prefix + 8 digits) for the countries of the seeds' customers.
MIX = (
    ("America/Argentina/Buenos_Aires", "AR", "+54911"),
    ("America/Mexico_City", "MX", "+5255"),
    ("Europe/Madrid", "ES", "+346"),
    ("America/Bogota", "CO", "+57300"),
    ("America/New_York", "US", "+1212"),
)


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    window = BusinessWindow.from_config(
        {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "05:00", "end": "17:00",
         "skip_holidays": True}
    )
    entered = datetime(2026, 11, 13, 21, 0, tzinfo=UTC)
    # Contacts enter over a year, so several holiday years and DST transitions are involved.
    spread = timedelta(days=365) / CONTACTS
    rows = []
    for skip in (False, True):
        w = BusinessWindow(window.weekdays, window.start, window.end, skip_holidays=skip)
        for tz, country, _ in MIX:  # warm the holiday caches, as a running worker has them
            next_business_time(entered, w, tz, country)
        started = time.perf_counter()
        for i in range(CONTACTS):
            tz, country, _ = MIX[i % len(MIX)]
            next_business_time(entered + i * spread + timedelta(days=7), w, tz, country)
        elapsed = time.perf_counter() - started
        label = "next_business_time, holidays skipped" if skip else "next_business_time"
        rows.append((label, elapsed))
    phones = [f"{MIX[i % len(MIX)][2]}{i:08d}"[:16] for i in range(CONTACTS)]
    started = time.perf_counter()
    for phone in phones:
        timezone_for_phone(phone, "UTC")
    rows.append(("timezone_for_phone", time.perf_counter() - started))

    print(f"business time, {CONTACTS:,} contacts, 1 core, {platform.python_version()}, "
          f"{platform.machine()}, {datetime.now(UTC):%Y-%m-%d}")
    print(f"{'computation':<40} {'total s':>8} {'µs/contact':>11}")
    for label, elapsed in rows:
        print(f"{label:<40} {elapsed:>8.2f} {elapsed / CONTACTS * 1e6:>11.1f}")


if __name__ == "__main__":
    main()
