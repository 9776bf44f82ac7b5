"""A campaign's story keeps a little formatting and nothing that runs."""

from associations import story
from associations.models import Campaign
from tests.associations.helpers import make_campaign


def test_script_tags_are_removed_with_their_content():
    assert story.sanitise("<p>Hello</p><script>alert(1)</script>") == "<p>Hello</p>"


def test_javascript_and_plain_http_links_lose_their_address():
    cleaned = story.sanitise('<a href="javascript:alert(1)">x</a> <a href="http://a.example">y</a> <a href="/z">z</a>')
    assert "javascript" not in cleaned and "http://" not in cleaned and 'href="/z"' not in cleaned


def test_https_links_and_the_allowed_tags_stay():
    cleaned = story.sanitise(
        "<p><strong>a</strong> <em>b</em><br></p><ul><li>c</li></ul><ol><li>d</li></ol>"
        '<a href="https://asso.example.org/" onclick="x()">e</a><img src="x" onerror="y()"><h1 style="color:red">f</h1>'
    )
    assert "<strong>a</strong>" in cleaned and "<em>b</em>" in cleaned and "<br>" in cleaned
    assert "<ul><li>c</li></ul>" in cleaned and "<ol><li>d</li></ol>" in cleaned
    assert 'href="https://asso.example.org/"' in cleaned
    assert "onclick" not in cleaned and "<img" not in cleaned and "<h1" not in cleaned and "style" not in cleaned


def test_the_story_is_sanitised_on_save(merchant_a):
    campaign = make_campaign(merchant_a, story='<p>Hi</p><script>steal()</script><a href="javascript:x">l</a>')

    stored = Campaign.objects.get(pk=campaign.pk).story
    assert "<script" not in stored and "steal" not in stored and "javascript:" not in stored


def test_a_story_written_around_the_model_is_sanitised_on_render(merchant_a, client):
    campaign = make_campaign(merchant_a)
    Campaign.objects.filter(pk=campaign.pk).update(
        story='<p>Hi</p><script>steal()</script><a href="javascript:x">l</a>'
    )

    page = client.get(f"/c/{campaign.slug}/").content.decode()
    assert "steal()" not in page and "javascript:x" not in page and "<p>Hi</p>" in page
