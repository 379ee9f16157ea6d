"""Staff pages of training: My training, taking a course, acknowledging a protocol, the overdue dashboard,
the completions export, and the authoring pages (courses, lessons, questions, protocols, assignments).

No page here shows a patient's data: it is the clinic's teaching material and staff members' records.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.csv_export import csv_writer
from careline.core.permissions import Perm, has_perm, require_perm
from careline.education.article import article_html
from careline.training.forms import (
    AssignmentForm,
    CourseForm,
    ExportForm,
    LessonForm,
    ProtocolForm,
    PublishForm,
    QuestionForm,
)
from careline.training.models import Assignment, Completion, Course, Lesson, LessonKind, Protocol, Question
from careline.training.queries import completions_of, completions_search, overdue_by_location, tasks_of
from careline.training.services import (
    assignment_save,
    choices_parse,
    course_next_lesson,
    course_save,
    lesson_mark_read,
    lesson_save,
    protocol_acknowledge,
    protocol_publish,
    protocol_save,
    question_save,
    quiz_submit,
)


def _errors_apply(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on FORM, by field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _user(request: HttpRequest) -> Any:
    return request.user


# --- every staff member --------------------------------------------------------------------------------------


@require_perm()
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My training: what is assigned and when it is due (overdue first), and what I have done."""
    today = timezone.localdate()
    tasks = list(tasks_of(_user(request)))
    return render(
        request,
        "training/mine.html",
        {
            "overdue": [task for task in tasks if task.due_on < today],
            "upcoming": [task for task in tasks if task.due_on >= today],
            "completions": completions_of(_user(request)),
            "can_manage": has_perm(request.user, Perm.TRAINING_MANAGE),
            "nav": "training",
        },
    )


def _answers(request: HttpRequest, course: Course) -> dict[int, list[int]]:
    """The chosen answers of the quiz form (q<question id> -> choice ids); foreign ids are dropped."""
    valid = {
        question.pk: {choice.pk for choice in question.choices.all()} for question in course.questions.all()
    }
    answers: dict[int, list[int]] = {}
    for question_pk, choice_pks in valid.items():
        chosen = []
        for raw in request.POST.getlist(f"q{question_pk}"):
            if raw.isdigit() and int(raw) in choice_pks:
                chosen.append(int(raw))
        answers[question_pk] = chosen
    return answers


@require_perm()
@require_http_methods(["GET", "POST"])
def course(request: HttpRequest, course_pk: int) -> HttpResponse:
    """Take a course: its lessons in order (each marked read), then its quiz; the score and a retake."""
    course = get_object_or_404(Course.objects.prefetch_related("questions__choices"), pk=course_pk)
    if not course.is_active and not has_perm(request.user, Perm.TRAINING_MANAGE):
        raise Http404("No such course")
    user = _user(request)
    status = 200
    if request.method == "POST" and "lesson" in request.POST:
        lesson = (
            course.lessons.filter(pk=request.POST["lesson"]).first()
            if request.POST["lesson"].isdigit()
            else None
        )
        if lesson is None or lesson != course_next_lesson(user=user, course=course):
            messages.error(request, "That lesson is not the next one: read the lessons in order.")
            return redirect("training:course", course_pk=course.pk)
        lesson_mark_read(user=user, lesson=lesson)
        return redirect("training:course", course_pk=course.pk)
    result: Completion | None = None
    error = ""
    if request.method == "POST":
        try:
            result = quiz_submit(
                user=user, course=course, answers=_answers(request, course), actor=Actor.from_request(request)
            )
        except ValidationError as failure:
            error = " ".join(failure.messages)
            status = 400
    lessons = list(course.lessons.all())
    next_lesson = course_next_lesson(user=user, course=course)
    position = lessons.index(next_lesson) + 1 if next_lesson is not None else len(lessons)
    return render(
        request,
        "training/course.html",
        {
            "course": course,
            "lessons": lessons,
            "lesson": next_lesson,
            "position": position,
            "lesson_html": article_html(next_lesson.body)
            if next_lesson and next_lesson.kind == LessonKind.TEXT
            else "",
            "questions": list(course.questions.all()),
            "result": result,
            "error": error,
            "last": Completion.objects.filter(user=user, course=course).first(),
            "nav": "training",
        },
        status=status,
    )


@require_perm()
@require_GET
def lesson_file(request: HttpRequest, course_pk: int, lesson_pk: int) -> HttpResponse:
    """A PDF lesson's file (staff only, not cached)."""
    lesson = get_object_or_404(Lesson, pk=lesson_pk, course_id=course_pk, kind=LessonKind.PDF)
    if not lesson.file:
        raise Http404("No file")
    try:
        with lesson.file.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="lesson-{lesson.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_perm()
@require_http_methods(["GET", "POST"])
def protocol(request: HttpRequest, protocol_pk: int) -> HttpResponse:
    """A protocol's current version, and acknowledging it (earlier acknowledgements stay on record)."""
    protocol = get_object_or_404(Protocol, pk=protocol_pk)
    version = protocol.current_version()
    if version is None:
        raise Http404("Nothing published yet")
    user = _user(request)
    status = 200
    if request.method == "POST":
        try:
            number = int(request.POST.get("version", ""))
        except ValueError:
            number = 0
        asked = protocol.versions.filter(number=number).first()
        if asked is None:
            messages.error(request, "Choose the version you read.")
            status = 400
        else:
            try:
                protocol_acknowledge(user=user, version=asked, actor=Actor.from_request(request))
            except ValidationError as failure:
                messages.error(request, " ".join(failure.messages))
                status = 400
            else:
                messages.success(request, f"Acknowledged version {asked.number} of “{protocol.title}”.")
                return redirect("training:mine")
    return render(
        request,
        "training/protocol.html",
        {
            "protocol": protocol,
            "version": version,
            "body_html": article_html(version.body),
            "acknowledged": Completion.objects.filter(user=user, protocol_version=version).first(),
            "earlier": Completion.objects.filter(user=user, protocol_version__protocol=protocol)
            .exclude(protocol_version=version)
            .select_related("protocol_version"),
            "nav": "training",
        },
        status=status,
    )


# --- managers and administrators -----------------------------------------------------------------------------


@require_perm(Perm.TRAINING_MANAGE)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Who is overdue, per location."""
    return render(request, "training/dashboard.html", {"groups": overdue_by_location(), "nav": "training"})


@require_perm(Perm.TRAINING_MANAGE)
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """Completions as CSV for audits, filtered by location, dates and course or protocol (audited)."""
    form = ExportForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(f"Bad filters: {errors}", status=400, content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    rows = completions_search(
        location=data.get("location"),
        since=data.get("since"),
        until=data.get("until"),
        course_id=data["course"].pk if data.get("course") else None,
        protocol_id=data["protocol"].pk if data.get("protocol") else None,
    )
    audit_record(
        action=AuditAction.EXPORT,
        request=request,
        object_type="report.training",
        detail="training completions",
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="training-completions.csv"'
    writer = csv_writer(response)
    writer.writerow(["Completed at", "Person", "Email", "Kind", "Title", "Version", "Score", "Passed"])
    for row in rows:
        writer.writerow(
            [
                timezone.localtime(row.completed_at).isoformat(timespec="minutes"),
                row.user.full_name,
                row.user.email,
                "course" if row.course_id else "protocol",
                row.subject_title,
                row.version,
                "" if row.score is None else row.score,
                "yes" if row.passed else "no",
            ]
        )
    return response


@require_perm(Perm.TRAINING_MANAGE)
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    """Courses, protocols and assignments, with links to change them; the export's form."""
    return render(
        request,
        "training/manage.html",
        {
            "courses": Course.objects.annotate(
                lesson_count=Count("lessons", distinct=True), question_count=Count("questions", distinct=True)
            ),
            "protocols": Protocol.objects.all().prefetch_related("versions"),
            "assignments": Assignment.objects.select_related(
                "course", "protocol", "location"
            ).prefetch_related("people"),
            "export_form": ExportForm(),
            "nav": "training",
        },
    )


@require_perm(Perm.TRAINING_MANAGE)
@require_http_methods(["GET", "POST"])
def course_edit(request: HttpRequest, course_pk: int | None = None) -> HttpResponse:
    """Create a course or change one; its lessons and quiz questions are listed with links."""
    course = get_object_or_404(Course, pk=course_pk) if course_pk is not None else None
    status = 200
    if request.method == "POST":
        form = CourseForm(request.POST, instance=course)
        if form.is_valid():
            try:
                saved = course_save(
                    course=course, values=form.cleaned_data, actor=Actor.from_request(request)
                )
            except ValidationError as error:
                _errors_apply(form, error)
            else:
                messages.success(request, f"Saved “{saved.title}”.")
                return redirect("training:course_edit", course_pk=saved.pk)
        status = 400
    else:
        form = CourseForm(instance=course)
    return render(
        request,
        "training/course_edit.html",
        {
            "form": form,
            "course": course,
            "lessons": list(course.lessons.all()) if course else [],
            "questions": list(course.questions.prefetch_related("choices")) if course else [],
            "nav": "training",
        },
        status=status,
    )


@require_perm(Perm.TRAINING_MANAGE)
@require_http_methods(["GET", "POST"])
def lesson_edit(request: HttpRequest, course_pk: int, lesson_pk: int | None = None) -> HttpResponse:
    """Add a lesson to a course, or change one."""
    course = get_object_or_404(Course, pk=course_pk)
    lesson = get_object_or_404(Lesson, pk=lesson_pk, course=course) if lesson_pk is not None else None
    status = 200
    if request.method == "POST":
        form = LessonForm(request.POST, request.FILES, instance=lesson)
        if form.is_valid():
            upload = request.FILES.get("upload")
            try:
                lesson_save(
                    course=course,
                    lesson=lesson,
                    values=form.cleaned_data,
                    upload=upload,
                    original_name=(upload.name or "") if upload else "",
                    size=upload.size if upload else None,
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _errors_apply(form, error)
            else:
                messages.success(request, "Lesson saved.")
                return redirect("training:course_edit", course_pk=course.pk)
        status = 400
    else:
        form = LessonForm(instance=lesson)
    return render(
        request,
        "training/lesson_edit.html",
        {"form": form, "course": course, "lesson": lesson, "nav": "training"},
        status=status,
    )


@require_perm(Perm.TRAINING_MANAGE)
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, course_pk: int, question_pk: int | None = None) -> HttpResponse:
    """Add a quiz question (answers one a line, right ones marked '*'), or change one."""
    course = get_object_or_404(Course, pk=course_pk)
    question = get_object_or_404(Question, pk=question_pk, course=course) if question_pk is not None else None
    status = 200
    if request.method == "POST":
        form = QuestionForm(request.POST)
        if form.is_valid():
            try:
                question_save(
                    course=course,
                    question=question,
                    text=form.cleaned_data["text"],
                    choices=choices_parse(form.cleaned_data["choices"]),
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _errors_apply(form, error)
            else:
                messages.success(request, "Question saved.")
                return redirect("training:course_edit", course_pk=course.pk)
        status = 400
    else:
        form = QuestionForm.for_question(question) if question is not None else QuestionForm()
    return render(
        request,
        "training/question_edit.html",
        {"form": form, "course": course, "question": question, "nav": "training"},
        status=status,
    )


@require_perm(Perm.TRAINING_MANAGE)
@require_http_methods(["GET", "POST"])
def protocol_edit(request: HttpRequest, protocol_pk: int | None = None) -> HttpResponse:
    """Create a protocol or rename it; publish a new version of its text."""
    protocol = get_object_or_404(Protocol, pk=protocol_pk) if protocol_pk is not None else None
    actor = Actor.from_request(request)
    status = 200
    form = ProtocolForm(instance=protocol)
    publish_form = PublishForm(
        initial={"body": v.body} if protocol and (v := protocol.current_version()) else None
    )
    if request.method == "POST" and "publish" in request.POST and protocol is not None:
        publish_form = PublishForm(request.POST)
        if publish_form.is_valid():
            try:
                version = protocol_publish(
                    protocol=protocol, body=publish_form.cleaned_data["body"], actor=actor
                )
            except ValidationError as error:
                _errors_apply(publish_form, error)
            else:
                messages.success(
                    request, f"Published version {version.number}; everyone assigned is asked again."
                )
                return redirect("training:protocol_edit", protocol_pk=protocol.pk)
        status = 400
    elif request.method == "POST":
        form = ProtocolForm(request.POST, instance=protocol)
        if form.is_valid():
            try:
                saved = protocol_save(
                    protocol=protocol,
                    title=form.cleaned_data["title"],
                    is_active=form.cleaned_data["is_active"],
                    actor=actor,
                )
            except ValidationError as error:
                _errors_apply(form, error)
            else:
                messages.success(request, f"Saved “{saved.title}”.")
                return redirect("training:protocol_edit", protocol_pk=saved.pk)
        status = 400
    versions = list(protocol.versions.annotate(acks=Count("acknowledgements"))) if protocol else []
    return render(
        request,
        "training/protocol_edit.html",
        {
            "form": form,
            "publish_form": publish_form,
            "protocol": protocol,
            "versions": versions,
            "nav": "training",
        },
        status=status,
    )


@require_perm(Perm.TRAINING_MANAGE)
@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, assignment_pk: int | None = None) -> HttpResponse:
    """Assign a course or protocol to a role or to named people, with a due date and a recurrence."""
    assignment = get_object_or_404(Assignment, pk=assignment_pk) if assignment_pk is not None else None
    status = 200
    if request.method == "POST":
        form = AssignmentForm(request.POST, instance=assignment)
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in form.Meta.fields if name != "people"}
            try:
                assignment_save(
                    assignment=assignment,
                    values=values,
                    people=form.cleaned_data["people"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _errors_apply(form, error)
            else:
                messages.success(request, "Assignment saved.")
                return redirect("training:manage")
        status = 400
    else:
        form = AssignmentForm(instance=assignment)
    return render(
        request,
        "training/assignment_edit.html",
        {"form": form, "assignment": assignment, "nav": "training"},
        status=status,
    )
