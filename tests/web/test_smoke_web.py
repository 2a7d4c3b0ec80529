"""A logged-in clerk sees the village home with households and balances."""

from conftest import login


def test_clerk_logs_in_and_sees_households(client, web_world):
    response = login(client, web_world.users["clerk"])
    assert response.status_code == 302
    page = client.get(response.location)
    assert page.status_code == 200
    assert "张建华" in page.get_data(as_text=True)
