"""Routes of staff training (under /training/)."""

from django.urls import URLPattern, URLResolver, path

from careline.training import views

app_name = "training"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.mine, name="mine"),
    path("courses/<int:course_pk>", views.course, name="course"),
    path("courses/<int:course_pk>/lessons/<int:lesson_pk>/file", views.lesson_file, name="lesson_file"),
    path("protocols/<int:protocol_pk>", views.protocol, name="protocol"),
    path("dashboard", views.dashboard, name="dashboard"),
    path("export.csv", views.export, name="export"),
    path("manage/", views.manage, name="manage"),
    path("manage/courses/new", views.course_edit, name="course_create"),
    path("manage/courses/<int:course_pk>", views.course_edit, name="course_edit"),
    path("manage/courses/<int:course_pk>/lessons/new", views.lesson_edit, name="lesson_create"),
    path("manage/courses/<int:course_pk>/lessons/<int:lesson_pk>", views.lesson_edit, name="lesson_edit"),
    path("manage/courses/<int:course_pk>/questions/new", views.question_edit, name="question_create"),
    path(
        "manage/courses/<int:course_pk>/questions/<int:question_pk>",
        views.question_edit,
        name="question_edit",
    ),
    path("manage/protocols/new", views.protocol_edit, name="protocol_create"),
    path("manage/protocols/<int:protocol_pk>", views.protocol_edit, name="protocol_edit"),
    path("manage/assignments/new", views.assignment_edit, name="assignment_create"),
    path("manage/assignments/<int:assignment_pk>", views.assignment_edit, name="assignment_edit"),
]
