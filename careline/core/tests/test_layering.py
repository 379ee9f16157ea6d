"""Apps depend downwards only (core < locations < accounts < patients < messaging < scheduling < oncall < records < care < billing < portal < demo)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps

from careline.core.tests.package_support import fake_package
from careline.testing.import_cycles import careline_import_graph
from careline.testing.layering import APP_ORDER, careline_layering_violations, layering_violations


def test_no_app_uses_an_app_above_it() -> None:
    assert careline_layering_violations() == [], (
        "a lower app uses a higher one: invert it (the higher app registers a callback, plugin, event "
        "receiver or task name with the lower one in its AppConfig.ready()); see docs/architecture.md"
    )


def test_every_careline_app_has_its_place_in_the_order_under_its_own_label() -> None:
    installed = {
        config.name: config.label for config in apps.get_app_configs() if config.name.startswith("careline.")
    }
    assert sorted(installed) == sorted(f"careline.{app}" for app in APP_ORDER)
    assert all(label == name.split(".")[1] for name, label in installed.items())  # labels name the packages


def test_the_project_modules_an_app_may_import_import_only_core() -> None:
    graph = careline_import_graph()
    assert {target.split(".")[1] for target in graph["careline.celery"]} <= {"core"}


def test_an_import_of_a_higher_app_even_inside_a_function_is_a_violation(tmp_path: Path) -> None:
    root = fake_package(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/audit.py": "def f():\n    from pkg.patients.models import Patient\n    return Patient\n",
            "core/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.patients import models\n",
            "patients/__init__.py": "",
            "patients/models.py": "from pkg.core import audit\n",
            "patients/tests/__init__.py": "",
            "patients/tests/test_x.py": "from pkg.scheduling import models\n",
            "scheduling/__init__.py": "",
            "scheduling/models.py": "from pkg.patients import models\n",
        },
    )
    assert layering_violations(root) == ["pkg.core.audit -> pkg.patients.models"]


def test_a_model_reached_by_name_counts_like_an_import(tmp_path: Path) -> None:
    root = fake_package(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/queries.py": "from django.apps import apps\nP = apps.get_model('patients', 'Patient')\n",
            "core/models.py": "from django.db import models\nu = models.ForeignKey('auth.User', on_delete=None)\n",
            "patients/__init__.py": "",
            "patients/models.py": (
                "from django.db import models\n"
                "a = models.ForeignKey(to='scheduling.Appointment', on_delete=None)\n"
                "b = models.ForeignKey('self', on_delete=None)\n"
                "c = models.ManyToManyField('core.Tag')\n"
            ),
        },
    )
    assert layering_violations(root) == [
        "pkg.core.queries -> pkg.patients.models",
        "pkg.patients.models -> pkg.scheduling.models",
    ]


def test_project_modules_may_use_anything_and_apps_only_the_listed_ones(tmp_path: Path) -> None:
    root = fake_package(
        tmp_path,
        {
            "urls.py": "from pkg.scheduling import views\n",
            "celery.py": "from pkg.core import broker\n",
            "testing/__init__.py": "from pkg.scheduling import views\n",
            "core/__init__.py": "",
            "core/broker.py": "",
            "core/queue.py": "from pkg.celery import app\n",
            "core/links.py": "from pkg import urls\n",
            "scheduling/__init__.py": "",
            "scheduling/views.py": "",
        },
    )
    assert layering_violations(root) == ["pkg.core.links -> pkg.urls"]
