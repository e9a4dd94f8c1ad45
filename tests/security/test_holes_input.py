"""Issue 25, holes 4 and 6 (input): what a request may carry that the app cannot use is a 400
naming the field, never a 500 or a secret in an error."""

from __future__ import annotations

import pytest

from tests.factories import MemberFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("test", [False, True], ids=["save", "test"])
@pytest.mark.parametrize(("field", "value"), [("api_key", "ключ"), ("api_secret", "s€cret-value")])
def test_a_non_latin_cloudinary_credential_is_a_400_naming_the_field(client, test, field, value):
    workspace = WorkspaceFactory()
    client.force_login(MemberFactory(workspace=workspace, role="technical_admin").user)
    body = {"cloud_name": "demo", "api_key": "123456", "api_secret": "abc-DEF_123", field: value}
    url = f"/api/workspaces/{workspace.pk}/cloudinary/" + ("test/" if test else "")
    response = (client.post if test else client.put)(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    assert value not in response.content.decode()
