"""Routes of the records app (staff pages under /records/)."""

from django.urls import URLPattern, URLResolver, path

from careline.records.kinds import ENTRY_KINDS
from careline.records.views import records, results

app_name = "records"

urlpatterns: list[URLPattern | URLResolver] = [
    path("patients/<int:pk>/", records.patient_records, name="patient"),
    path("patients/<int:pk>/documents/add", records.document_add_page, name="document_add"),
    path("patients/<int:pk>/documents/<int:document_pk>", records.document_detail, name="document"),
    path("patients/<int:pk>/documents/<int:document_pk>/file", records.document_file, name="document_file"),
    path("patients/<int:pk>/results/add", results.result_add_page, name="result_add"),
    path(
        "patients/<int:pk>/results/release-normal",
        results.results_release_normal_action,
        name="results_release_normal",
    ),
    path("patients/<int:pk>/results/<int:result_pk>", results.result_detail, name="result"),
    path(
        "patients/<int:pk>/results/<int:result_pk>/release",
        results.result_release_action,
        name="result_release",
    ),
    path("release-rules/", results.release_rules, name="release_rules"),
    path("release-rules/<int:rule_pk>", results.release_rule_edit, name="release_rule_edit"),
]
# Each kind of entry: an add page and the entry's page (history and the amend form),
# named by the kind ("records:allergies_add", "records:allergies").
for _code, _kind in ENTRY_KINDS.items():
    _name = _code.replace("-", "_")
    urlpatterns += [
        path(f"patients/<int:pk>/{_code}/add", records.entry_add_view(_code), name=f"{_name}_add"),
        path(f"patients/<int:pk>/{_code}/<int:{_kind.kwarg}>", records.entry_detail_view(_code), name=_name),
    ]
