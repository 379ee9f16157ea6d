"""Patient search latency on one database (the one DATABASE_URL names), run in a process of its own.

Loads N patients with bulk_create, then times `patient_search` for name prefixes, phones typed in another
format than stored, and MRNs, against a naive unindexed `icontains` scan measured in the same run.
Usage (normally through `python -m bench`): python -m bench.search --patients 100000 --out results.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Prefetch, Q  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from faker import Faker  # noqa: E402

from careline.accounts.models import User  # noqa: E402
from careline.core.permissions import Role  # noqa: E402
from careline.locations.models import Location  # noqa: E402
from careline.patients.models import Language, Patient, PatientPhone, PhoneKind, Sex  # noqa: E402
from careline.patients.queries import patients_visible_to  # noqa: E402
from careline.patients.queries.search import patient_search  # noqa: E402

BATCH = 5000
AREA_CODES = ("614", "608")


def _name_pools(seed: int) -> tuple[list[str], list[str], list[str]]:
    """Realistic first and last names (Faker's weighted lists), drawn once; rows combine them at random."""
    pools: tuple[list[str], list[str], list[str]] = ([], [], [])
    for locale in ("en_US", "es_MX"):
        fake = Faker(locale)
        fake.seed_instance(seed)
        pools[0].extend(fake.first_name_female() for _ in range(1500))
        pools[1].extend(fake.first_name_male() for _ in range(1500))
        pools[2].extend(fake.last_name() for _ in range(3000))
    return pools


def phone_for(index: int) -> str:
    """The stored (E.164) number of patient INDEX: unique, valid, in one of the two clinics' area codes."""
    return f"+1{AREA_CODES[index % 2]}2{index:06d}"


def typed_phone(e164: str) -> str:
    """How a person types it: (614) 200-0123."""
    national = e164[2:]
    return f"({national[:3]}) {national[3:6]}-{national[6:]}"


def load(count: int, seed: int) -> tuple[User, float]:
    """Two locations, a front-desk user at the first, COUNT patients with a mobile each; seconds taken."""
    started = time.perf_counter()
    rng = random.Random(seed)
    females, males, lasts = _name_pools(seed)
    with transaction.atomic():
        locations = [
            Location.objects.create(
                name=f"Bench {code}",
                address_line1="1 Main St",
                city="Columbus",
                phone=f"+1{code}5550100",
                time_zone="America/New_York",
            )
            for code in AREA_CODES
        ]
        user = User.objects.create_user(
            "bench.front@example.test", None, full_name="Bench Front", roles=[Role.FRONT_DESK]
        )
        user.locations.set([locations[0]])
    for start in range(0, count, BATCH):
        patients = []
        for index in range(start, min(count, start + BATCH)):
            sex = Sex.FEMALE if rng.random() < 0.5 else Sex.MALE
            patient = Patient(
                mrn=f"B{index:07d}",
                legal_first_name=rng.choice(females if sex == Sex.FEMALE else males),
                legal_last_name=rng.choice(lasts),
                date_of_birth=f"{rng.randint(1930, 2023)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                sex=sex,
                language=Language.SPANISH if rng.random() < 0.25 else Language.ENGLISH,
                primary_location=locations[index % 2],
            )
            patient.refresh_search_keys()  # bulk_create skips save(), which fills the keys
            patients.append(patient)
        with transaction.atomic():
            Patient.objects.bulk_create(patients)
            PatientPhone.objects.bulk_create(
                PatientPhone(
                    patient=p, number=phone_for(start + offset), kind=PhoneKind.MOBILE, is_primary=True
                )
                for offset, p in enumerate(patients)
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user, time.perf_counter() - started


def naive_search(user: Any, text: str, limit: int = 50) -> list[Patient]:
    """The baseline: what a first version would do; case-insensitive substring scans, no search keys."""
    digits = "".join(ch for ch in text if ch.isdigit())
    match = (
        Q(legal_last_name__icontains=text)
        | Q(legal_first_name__icontains=text)
        | Q(preferred_name__icontains=text)
        | Q(mrn__icontains=text)
    )
    if len(digits) >= 7:
        match |= Q(phones__number__icontains=digits)
    queryset = (
        patients_visible_to(user)
        .filter(match)
        .distinct()
        .select_related("primary_location")
        .prefetch_related(Prefetch("phones", queryset=PatientPhone.objects.order_by("-is_primary", "id")))
        .order_by("legal_last_name", "legal_first_name", "id")
    )
    return list(queryset[:limit])


def _timings(search: Callable[[Any, str], list[Patient]], user: Any, texts: list[str]) -> list[float]:
    results = []
    for text in texts:
        started = time.perf_counter()
        search(user, text)
        results.append((time.perf_counter() - started) * 1000)
    return results


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def workloads(user: User, count: int, queries: int, seed: int) -> dict[str, list[str]]:
    """Search texts a front-desk user at the first location would type, for patients they can see."""
    rng = random.Random(seed + 1)
    visible = [index for index in range(count) if index % 2 == 0]
    picks = [rng.choice(visible) for _ in range(queries)]
    last_names = dict(
        Patient.objects.filter(mrn__in=[f"B{i:07d}" for i in picks]).values_list("mrn", "legal_last_name")
    )
    names = []
    for index in picks:
        name = last_names[f"B{index:07d}"]
        names.append(name[: rng.randint(3, 5)].capitalize())
    return {
        "name prefix": names,
        "phone (typed as (614) 200-0123)": [typed_phone(phone_for(i)) for i in picks],
        "MRN": [f"B{i:07d}" for i in picks],
    }


def measure(user: User, texts: dict[str, list[str]], baseline_queries: int) -> list[dict[str, Any]]:
    """Median and p95 of each search kind, its SQL query count, and the naive scan's median."""
    rows = []
    for kind, items in texts.items():
        found = patient_search(user, items[0])
        if not found:
            raise SystemExit(
                f"bench: the {kind} search found nothing for {items[0]!r}; the workload is wrong"
            )
        _timings(patient_search, user, items[:20])  # warm-up: caches, prepared plans
        careline = _timings(patient_search, user, items)
        with CaptureQueriesContext(connection) as captured:
            patient_search(user, items[-1])
        sample = items[:baseline_queries]
        _timings(naive_search, user, sample[:3])
        naive = _timings(naive_search, user, sample)
        rows.append(
            {
                "search": kind,
                "n": len(careline),
                "median_ms": statistics.median(careline),
                "p95_ms": _p95(careline),
                "queries": len(captured.captured_queries),
                "naive_n": len(naive),
                "naive_median_ms": statistics.median(naive),
                "naive_p95_ms": _p95(naive),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline-queries", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0, interactive=False)
    user, load_seconds = load(args.patients, args.seed)
    user = User.objects.get(pk=user.pk)  # a fresh instance, as a request would have
    texts = workloads(user, args.patients, args.queries, args.seed)
    rows = measure(user, texts, args.baseline_queries)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    args.out.write_text(
        json.dumps(
            {
                "database": f"{'SQLite' if connection.vendor == 'sqlite' else 'PostgreSQL'} {version}",
                "patients": Patient.objects.count(),
                "load_seconds": load_seconds,
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
