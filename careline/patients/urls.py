"""Staff pages about patients: the registry, care notes and alerts, the handoff view and CSV import."""

from django.urls import path

from careline.patients.views import handoff, imports, notes, registry

app_name = "patients"

urlpatterns = [
    path("", registry.patient_list, name="list"),
    path("patients/new", registry.patient_create, name="create"),
    path("patients/<int:pk>", registry.patient_detail, name="detail"),
    path("patients/<int:pk>/edit", registry.patient_edit, name="edit"),
    path("patients/<int:pk>/phones", registry.patient_phones, name="phones"),
    path("patients/<int:pk>/preferences", registry.patient_preferences, name="preferences"),
    path("patients/<int:pk>/consent", registry.patient_consent, name="consent"),
    path("patients/<int:pk>/caregivers/new", registry.caregiver_create, name="caregiver_create"),
    path("patients/<int:pk>/caregivers/<int:caregiver_pk>", registry.caregiver_edit, name="caregiver_edit"),
    path("patients/<int:pk>/notes", notes.note_list, name="notes"),
    path("patients/<int:pk>/notes/new", notes.note_create, name="note_create"),
    path("patients/<int:pk>/notes/<int:note_pk>", notes.note_detail, name="note_detail"),
    path("patients/<int:pk>/notes/<int:note_pk>/amend", notes.note_amend, name="note_amend"),
    path("patients/<int:pk>/alerts/new", notes.alert_create, name="alert_create"),
    path("patients/<int:pk>/alerts/<int:alert_pk>/remove", notes.alert_remove, name="alert_remove"),
    path("handoff", handoff.handoff, name="handoff"),
    path("import", imports.import_upload, name="import"),
    path("import/<int:pk>", imports.import_status, name="import_status"),
]
