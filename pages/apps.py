from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The page as a whole: the embedded/standalone shell with the tabs Link to Products,
    Upload to Store Files, Setup and Runs, its template and static files (every tab's)."""

    name = "pages"
    verbose_name = "Pages"
