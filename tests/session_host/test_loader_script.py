"""The page loader injects wa-js only where WPP is missing, with analytics switched off first."""

from session_host.browser.session import loader_script


def test_wa_js_is_told_to_skip_google_analytics_before_it_runs():
    # given the loader evaluated in every new document
    script = loader_script()
    # then the config is set before the bundle is evaluated, and only when WPP is absent
    config_at = script.index("disableGoogleAnalytics: true")
    eval_at = script.index("(0, eval)(wajs)")
    guard_at = script.index("typeof window.WPP === 'undefined'")
    assert guard_at < config_at < eval_at
