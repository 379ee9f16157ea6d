"""Portal routes: signing in and out, Home, the open record, the language and the search."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import account, search

urlpatterns: list[URLPattern | URLResolver] = [
    path("", account.home, name="home"),
    path("signin/", account.signin, name="signin"),
    path("signout/", account.signout, name="signout"),
    path("record/", account.switch_record, name="switch_record"),
    path("language/", account.choose_language, name="language"),
    path("search/", search.search, name="search"),
]
