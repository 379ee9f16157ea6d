"""The recipient's links (under /learn/): no sign-in, signed tokens only."""

from django.urls import URLPattern, URLResolver, path

from careline.education.views import public

app_name = "education_public"

urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:token>", public.open_link, name="open"),
    path("item/<str:token>", public.item_page, name="item"),
]
