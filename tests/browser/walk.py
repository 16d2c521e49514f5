#!/usr/bin/env python3
"""Consentry in a real browser: Debian's Chromium, driven over WebDriver.

Starts the server with its demo study and walks the three kinds of user through
it, with JavaScript on and off, at a phone's 390x844 and a laptop's 1280x800:

- a participant follows the ad, screens (once not eligible, then eligible), reads
  the form in French and back in English, answers the knowledge review (once wrongly), reads and signs (a refused form first: the
  drawn signature must survive it), keeps the PDF and the receipt, answers both
  questionnaires through a branch, gives availability and withdraws; once per run,
  the consent page (its questions and its form) is completed with the keyboard
  alone;
- a coordinator signs in, schedules a focus group, reads the report, opens the
  study's settings, staff, consent drafting and questionnaire pages, writes an ad
  (refused once, previewed, saved, opened) and creates a study (refused once);
- an ethics officer opens a participant's signed PDF, the console and the audit log.

On the phone, a page that scrolls sideways fails the run.

axe-core (tests/browser/node_modules, pinned in package.json) runs on every page
visited; a serious or critical violation fails the run. Screenshots go to
target/browser/<run>/; with --screens DIR the phone-size participant pages are
also written there (docs/screens/). Python standard library only.

    python3 tests/browser/walk.py --binary target/debug/consentry [--screens docs/screens]
"""

import argparse
import base64
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
AXE = os.path.join(HERE, "node_modules", "axe-core", "axe.min.js")
COORDINATOR = ("coordinator@demo.consentry.test", "demo-coordinator-password")
ETHICS = ("ethics@demo.consentry.test", "demo-ethics-password")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered at {url} in {seconds} s")


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


class Browser:
    """A WebDriver session: just the commands the walk uses."""

    def __init__(self, driver, width, height, javascript):
        self.driver = driver
        prefs = {} if javascript else {"profile.managed_default_content_settings.javascript": 2}
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": shutil.which("chromium") or "/usr/bin/chromium",
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-dev-shm-usage",
                            "--disable-gpu",
                            f"--window-size={width},{height}",
                        ],
                        "prefs": prefs,
                        # A window cannot be narrower than 500 px: a phone's
                        # viewport is emulated instead.
                        **({"mobileEmulation": {"deviceMetrics": {
                            "width": width, "height": height, "pixelRatio": 1, "touch": javascript}}}
                           if width < 500 else {}),
                    },
                }
            }
        }
        self.session = self._call("POST", "/session", caps)["sessionId"]
        self.javascript = javascript

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.driver + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=120) as res:
                return json.loads(res.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise Failure(f"WebDriver {method} {path}: {e.read()[:400]!r}") from e
        except OSError as e:
            raise Failure(f"WebDriver {method} {path}: {e}") from e

    def cmd(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def quit(self):
        try:
            self.cmd("DELETE", "")
        except Failure:
            pass

    def go(self, url):
        self.cmd("POST", "/url", {"url": url})

    def url(self):
        return self.cmd("GET", "/url")

    def source(self):
        return self.cmd("GET", "/source")

    def title(self):
        return self.cmd("GET", "/title")

    def find_all(self, css):
        found = self.cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [f[ELEMENT] for f in found]

    def find(self, css):
        found = self.find_all(css)
        check(found, f"no element {css} on {self.url()}")
        return found[0]

    def click(self, css):
        self.cmd("POST", f"/element/{self.find(css)}/click", {})

    def document(self):
        return self.find("html")

    def moved_on(self, before, seconds=20):
        """Waits until a new document replaced `before` and has loaded."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if self.document() != before and self.script("return document.readyState;") == "complete":
                    return
            except Failure:
                pass
            time.sleep(0.05)
        raise Failure(f"no new page after submitting on {self.url()}")

    def submit(self, css):
        """Clicks a submit button and waits for the page that answers."""
        before = self.document()
        button = self.find(css)
        self.cmd("POST", f"/element/{button}/click", {})
        try:
            self.moved_on(before, seconds=5)
        except Failure:
            # An emulated tap can miss a button the page scrolled under it; the
            # keyboard presses it as a person would press it again.
            self.cmd("POST", f"/element/{button}/value", {"text": "\ue007"})
            self.moved_on(before)

    def type(self, css, text):
        el = self.find(css)
        self.cmd("POST", f"/element/{el}/clear", {})
        self.cmd("POST", f"/element/{el}/value", {"text": text})

    def set_value(self, css, text):
        """For date and time inputs, whose typing depends on the browser's locale."""
        self.script("arguments[0].value = arguments[1];", {ELEMENT: self.find(css)}, text)

    def value(self, css):
        return self.cmd("GET", f"/element/{self.find(css)}/property/value")

    def script(self, source, *args):
        return self.cmd("POST", "/execute/sync", {"script": source, "args": list(args)})

    def script_async(self, source, *args):
        return self.cmd("POST", "/execute/async", {"script": source, "args": list(args)})

    def keys(self, *keys):
        actions = []
        for k in keys:
            actions += [{"type": "keyDown", "value": k}, {"type": "keyUp", "value": k}]
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "kb", "actions": actions}]})

    def draw(self, css):
        """A signature stroke with a pen, as pointer actions on the element."""
        el = self.find(css)
        origin = {ELEMENT: el}
        moves = [{"type": "pointerMove", "origin": origin, "x": -120, "y": 10, "duration": 0},
                 {"type": "pointerDown", "button": 0}]
        for i in range(1, 13):
            moves.append({"type": "pointerMove", "origin": origin,
                          "x": -120 + i * 20, "y": (-1) ** i * 25, "duration": 20})
        moves.append({"type": "pointerUp", "button": 0})
        self.cmd("POST", "/actions", {"actions": [
            {"type": "pointer", "id": "pen", "parameters": {"pointerType": "pen"}, "actions": moves}]})
        self.cmd("DELETE", "/actions")

    def screenshot(self, path):
        data = self.cmd("GET", "/screenshot")
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def cookies(self):
        return {c["name"]: c["value"] for c in self.cmd("GET", "/cookie")}


class Walk:
    def __init__(self, base, driver, out, width, height, javascript, screens):
        self.base = base
        self.out = out
        self.phone = width < 600
        self.screens = screens if self.phone and javascript else None
        self.browser = Browser(driver, width, height, javascript)
        self.checker = None if javascript else Browser(driver, width, height, True)
        self.js = javascript
        self.axe_source = open(AXE, encoding="utf-8").read()
        self.pages = 0
        self.shot = 0

    def page(self, name, participant=False):
        """Checks the page in view: axe (serious and critical fail), a screenshot."""
        b = self.browser
        html = b.source()
        check("Internal Server Error" not in html and "Something went wrong" not in html,
              f"{name}: a server error page")
        if not self.js:
            # Without JavaScript the page's timers do not run, nor would axe: the
            # same markup, scripts taken out, is checked in a second browser.
            b = self.checker
            b.go(self.base + "/static/app.css")
            markup = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S | re.I)
            b.script("document.open(); document.write(arguments[0]); document.close();", markup)
        b.script(self.axe_source + "\nreturn true;")
        result = b.script_async(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(function (r) {"
            "  done(r.violations.map(function (v) { return {id: v.id, impact: v.impact,"
            "    nodes: v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); })}; }));"
            "}, function (e) { done([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}]); });")
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        check(not bad, f"{name}: axe {json.dumps(bad)}")
        b = self.browser
        if self.phone:
            wide = b.script("return [document.documentElement.scrollWidth, window.innerWidth];")
            check(wide[0] <= wide[1], f"{name}: the page scrolls sideways on a phone ({wide[0]} > {wide[1]} px)")
        self.shot += 1
        b.screenshot(os.path.join(self.out, f"{self.shot:02d}-{name}.png"))
        if self.screens and participant:
            b.screenshot(os.path.join(self.screens, f"{name}.png"))
        self.pages += 1
        with open(os.path.join(self.out, f"{self.shot:02d}-{name}.html"), "w") as f:
            f.write(html)
        return html

    def http(self, path):
        """GET with the browser's cookies (a PDF opens outside the page)."""
        jar = "; ".join(f"{k}={v}" for k, v in self.browser.cookies().items())
        req = urllib.request.Request(self.base + path, headers={"Cookie": jar})
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.headers.get("Content-Type", ""), res.read()

    # -- the participant -------------------------------------------------------

    def screen(self, name, email, enrolled):
        b = self.browser
        b.go(self.base + "/ads/moodle-mbbs")
        self.page("ad", participant=True)
        b.type("#field-name", name)
        b.type("#field-email", email)
        b.click(f"#a-enrolled_in_medicine-{'yes' if enrolled else 'no'}")
        b.click("#a-entry_pathway-undergraduate")
        b.submit("form[action^='/ads/'] button[type=submit]")

    def participant(self, n):
        b = self.browser
        email = f"walker{n}@student.example.edu"
        # An error on purpose: the page lands on a summary naming the fields.
        b.go(self.base + "/ads/moodle-mbbs")
        b.submit("form[action^='/ads/'] button[type=submit]")
        html = self.page("ad-errors", participant=True)
        check(b.title().startswith("Error:"), "the ad's refused form says Error in its title")
        check("Your name" in html and "#errors" in b.url(), f"lands on the summary: {b.url()}")
        # Not eligible, then back to correct the mis-tap.
        self.screen("Walker", email, enrolled=False)
        self.page("not-eligible", participant=True)
        before = b.document()
        b.click("main a[href^='/ads/']")
        b.moved_on(before)
        self.screen("Walker", email, enrolled=True)
        html = self.page("portal-enrolled", participant=True)
        check("We have also e-mailed you a link" in html, "a word after enrolling")
        check(b.find_all(".brand[href='/participant']"), "the logo leads to the participant's page")

        # The form in another language, and back.
        b.go(self.base + "/participant/consent")
        check(b.find_all("a[hreflang='fr']"), "the switcher offers the French text")
        before = b.document()
        b.click("a[hreflang='fr']")
        b.moved_on(before)
        html = self.page("consent-fr", participant=True)
        check('lang="fr"' in html and "Note d’information" in html, "the French text, marked")
        before = b.document()
        b.click("a[hreflang='en-AU']")
        b.moved_on(before)

        # The knowledge review: one wrong answer shows where the statement says it.
        self.page("consent", participant=True)
        check(not b.find_all("#field-read_confirmed"), "no signing before the questions")
        b.click("#answer-withdraw_after_group-1")
        b.click("#answer-marks_unaffected-1")
        b.submit("form[action='/participant/consent/checks'] button[type=submit]")
        html = self.page("consent-review-wrong", participant=True)
        check("That answer is not right" in html and "answered correctly" in html,
              "the wrong answer is explained, the right one marked")
        b.click("#answer-withdraw_after_group-2")
        b.submit("form[action='/participant/consent/checks'] button[type=submit]")

        # Read and sign: first refused (no confirmation), the drawing kept.
        html = self.page("consent-sign", participant=True)
        check("You answered the questions" in html, "signing opens once every answer is right")
        for box in b.find_all("input[type=checkbox][name^='items']"):
            b.cmd("POST", f"/element/{box}/click", {})
        b.type("#field-signature\\.typed_name", "Wal Ker")
        if self.js:
            b.draw("#signature-canvas")
            drawn = b.value("input[name='signature.drawn_svg']")
            check(drawn.startswith("<svg"), f"the pad fills the hidden field: {drawn[:60]!r}")
        b.submit("form[action^='/participant/consent'] button[type=submit]")
        html = self.page("consent-errors", participant=True)
        check("Confirm that you have read" in html, "the summary names the missing confirmation")
        if self.js:
            kept = b.value("input[name='signature.drawn_svg']")
            check(kept == drawn, "the drawn signature survives the refused form")
            inked = b.script(
                "var c = document.getElementById('signature-canvas');"
                "var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                "for (var i = 3; i < d.length; i += 4) { if (d[i]) { return true; } } return false;")
            check(inked, "and is drawn again on the pad")
        check(b.value("#field-signature\\.typed_name") == "Wal Ker", "the typed name is kept")
        b.click("#field-read_confirmed")
        b.submit("form[action^='/participant/consent'] button[type=submit]")
        html = self.page("portal-signed", participant=True)
        check("your consent is recorded" in html, "a word after signing")
        status, kind, body = self.http("/participant/consent.pdf")
        check(status == 200 and "pdf" in kind and body.startswith(b"%PDF"), "the signed PDF")
        before = b.document()
        b.click("a[href='/participant/receipt']")
        b.moved_on(before)
        html = self.page("receipt", participant=True)
        check("Your consent receipt" in html and "Wal Ker" in html, "a receipt to read")

        # No longer to be quoted: a change of choices, signed, then both records listed.
        b.go(self.base + "/participant/choices")
        self.page("choices", participant=True)
        b.click("#field-items\\.verbatim_quotes")
        b.type("#field-signature\\.typed_name", "Wal Ker")
        b.submit("form[action^='/participant/choices'] button[type=submit]")
        html = self.page("receipt-changed", participant=True)
        check("All your signed records" in html and "now not agreed" in html,
              "the receipt lists the change beside the consent")

        # Questionnaires: the graduate pathway opens the first-degree question.
        b.go(self.base + "/participant/questionnaires/demographics")
        self.page("demographics", participant=True)
        b.click("#a-gender-female")
        b.type("#field-age", "27")
        b.click("#a-entry_pathway-graduate")
        b.type("#field-year_of_course", "2")
        if self.js:
            check(not b.script("return document.getElementById('q-prior_degree').hidden;"),
                  "the script shows the first-degree question at once")
        else:
            b.submit("button[name=action][value=submit]")
            html = self.page("demographics-opened", participant=True)
            check("more question" in html, "Submit first shows the questions the answers open")
        b.type("#field-prior_degree", "BSc")
        b.submit("button[name=action][value=submit]")
        html = self.page("platform-usage", participant=True)
        check("is saved" in html, "a word after saving")
        b.click("#a-platforms_used-facebook")
        b.click("#a-platforms_used-twitter")
        b.click("#a-preferred_platform-twitter")
        if not self.js:
            b.submit("button[name=action][value=save]")
            self.page("platform-usage-opened", participant=True)
        b.type("#field-hours_per_day", "1,5")
        for _ in range(5):
            # Every other question shown and unanswered: its first choice.
            for choice in b.script(
                    "return Array.prototype.slice.call(document.querySelectorAll('.question'))"
                    ".filter(function (q) { return !q.hidden"
                    "  && q.querySelector('input[type=radio], input[type=checkbox]')"
                    "  && !q.querySelector('input:checked'); })"
                    ".map(function (q) {"
                    "  return '#' + q.querySelector('input[type=radio], input[type=checkbox]').id; });"):
                b.click(choice.replace(".", "\\."))
            b.submit("button[name=action][value=submit]")
            if "more question" not in b.source():
                break
            check(not self.js, "with the script, no question opens after submitting")
        html = self.page("portal-answered", participant=True)
        check("is saved" in html, f"both questionnaires done: {b.url()}")

        # Availability, then withdrawal (refused once without a choice).
        b.go(self.base + "/participant/availability")
        self.page("availability", participant=True)
        slots = b.find_all("input[name=slots]")
        if slots:
            b.cmd("POST", f"/element/{slots[0]}/click", {})
        else:
            b.click("#slot-none")
        b.submit("form[action^='/participant/availability'] button[type=submit]")
        html = self.page("portal-available", participant=True)
        check("availability is saved" in html or "none of these times" in html,
              "a word after saving availability")
        b.go(self.base + "/participant/withdraw")
        b.submit("form[action^='/participant/withdraw'] button[type=submit]")
        html = self.page("withdraw-errors", participant=True)
        check("Choose what should happen" in html, "the withdrawal question in words")
        b.click("#scope-future")
        b.submit("form[action^='/participant/withdraw'] button[type=submit]")
        html = self.page("portal-withdrawn", participant=True)
        check("You have withdrawn" in html, "withdrawn")
        check(not b.find_all("a[href='/participant/withdraw']"), "no second withdrawal offered")
        check(b.find_all("a[href='/participant/consent.pdf']"), "the signed copy stays")
        b.go(self.base + "/participant/consent")
        check(not b.find_all("form[action^='/participant/consent']"), "no signing form after")
        b.cmd("DELETE", "/cookie")

    def keyboard_consent(self, n):
        """The consent page completed with the keyboard alone."""
        b = self.browser
        self.screen("Kay Board", f"keys{n}@student.example.edu", enrolled=True)
        b.go(self.base + "/participant/consent")

        def tab_to(selector, limit=80):
            for _ in range(limit):
                b.keys("\ue004")
                if b.script("return document.activeElement.matches(arguments[0]);", selector):
                    return
            raise Failure(f"Tab never reaches {selector}")

        # The knowledge review: Tab into each group of answers, the arrow keys within.
        tab_to("#answer-withdraw_after_group-1")
        b.keys("\ue015")
        tab_to("#answer-marks_unaffected-1")
        b.keys(" ")
        tab_to("form[action='/participant/consent/checks'] button[type=submit]")
        before = b.document()
        b.keys("\ue007")
        b.moved_on(before)
        check("You answered the questions" in b.source(), "the questions answered by keyboard")

        boxes = b.script("return Array.prototype.slice.call(document.querySelectorAll("
                         "'input[type=checkbox][name^=items]')).map(function (i) { return i.id; });")
        for box in boxes:
            tab_to("#" + box.replace(".", "\\."))
            b.keys(" ")
        tab_to("#field-signature\\.typed_name")
        b.keys(*"Kay Board")
        tab_to("#field-read_confirmed")
        b.keys(" ")
        tab_to("form[action^='/participant/consent'] button[type=submit]")
        before = b.document()
        b.keys("\ue007")
        b.moved_on(before)
        html = b.source()
        check("your consent is recorded" in html, "signed with the keyboard alone")
        b.cmd("DELETE", "/cookie")

    # -- staff -----------------------------------------------------------------

    def sign_in(self, who):
        b = self.browser
        b.go(self.base + "/staff/login")
        self.page("staff-sign-in")
        b.type("#field-email", who[0])
        b.type("#field-password", who[1])
        b.submit("form[action='/staff/login'] button[type=submit]")

    def coordinator(self, n):
        b = self.browser
        self.sign_in(COORDINATOR)
        self.page("staff-studies")
        # The demo study (the walk's new studies join the list as it goes).
        b.click("a[href^='/staff/studies/']:not([href*='/walking-'])")
        self.page("study")
        slug = b.url().rstrip("/").split("/staff/studies/")[1].split("/")[0]
        b.go(f"{self.base}/staff/studies/{slug}/focus-groups")
        self.page("focus-groups")
        b.type("#field-title", f"Browser group {n}")
        day = time.strftime("%Y-%m-%d", time.localtime(time.time() + (9 + n) * 86400))
        b.set_value("#field-starts_at", day)
        b.set_value("#field-starts_time", "14:00")
        b.type("#field-duration_minutes", "60")
        b.type("#field-location", "Clayton campus, room 1.01")
        b.type("#field-facilitator_email", "facilitator@demo.consentry.test")
        b.type("#field-capacity", "6")
        b.submit("form[action$='/focus-groups'] button[type=submit]")
        html = self.page("focus-groups-scheduled")
        check(f"Browser group {n}" in html, "the session is scheduled")
        b.go(f"{self.base}/staff/studies/{slug}/report")
        self.page("report")
        b.go(f"{self.base}/staff/studies/{slug}/participants")
        self.page("participants")
        for area in ("settings", "staff", "consent-forms/new", "questionnaires", "results-summary"):
            b.go(f"{self.base}/staff/studies/{slug}/{area}")
            self.page(area.replace("/", "-"))

        # An ad: refused once (no headline), previewed, then saved.
        b.go(f"{self.base}/staff/studies/{slug}/recruitment")
        self.page("recruitment")
        code = f"walk-{n}"
        b.type("#field-code", code)
        b.type("#field-body_markdown", "We are looking for **medical students**.\n\n- one hour")
        b.submit("button[name=action][value=save]")
        html = self.page("recruitment-errors")
        check(b.find_all("#field-title[aria-invalid=true]") and "error-summary" in html,
              "the refused ad marks the headline and sums up what is wrong")
        check(b.value("#field-code") == code, "the short link typed is kept")
        b.type("#field-title", f"Walk {n}: tell us how you use social media")
        b.submit("button[name=action][value=preview]")
        html = self.page("recruitment-preview")
        check("<p>We are looking for medical students.</p><ul><li>one hour</li></ul>" in html,
              "the preview shows the Markdown as respondents will read it")
        b.submit("button[name=action][value=save]")
        html = self.page("recruitment-saved")
        check(f"/ads/{code}" in html.replace("&#x2f;", "/"), "the ad is listed with its link")
        b.go(f"{self.base}/ads/{code}")
        html = self.page("ad-new")
        check(f"Walk {n}" in html, "the new ad's public page")

        # A new study with its ethics approval, refused once for a missing reference.
        b.go(f"{self.base}/staff/new-study")
        self.page("new-study")
        b.type("#field-title", f"Walking study {n}")
        b.type("#field-slug", f"walking-{n}")
        b.type("#field-ethics\\.committee", "Monash University Human Research Ethics Committee")
        b.set_value("#field-ethics\\.approved_on", time.strftime("%Y-%m-%d"))
        b.set_value("#field-ethics\\.expires_on",
                    time.strftime("%Y-%m-%d", time.localtime(time.time() + 400 * 86400)))
        b.type("#field-contact\\.name", "Dr Walker")
        b.type("#field-contact\\.email", "walker@example.edu")
        b.submit("form[action='/staff/new-study'] button[type=submit]")
        html = self.page("new-study-errors")
        check(b.find_all("#field-ethics\\.reference[aria-invalid=true]") and "error-summary" in html,
              "the refusal marks the approval reference")
        check(b.value("#field-title") == f"Walking study {n}", "the title typed is kept")
        b.type("#field-ethics\\.reference", f"WALK-{n}")
        b.submit("form[action='/staff/new-study'] button[type=submit]")
        html = self.page("new-study-created")
        check(f"/staff/studies/walking-{n}" in b.url(), f"the new study's page: {b.url()}")
        b.cmd("DELETE", "/cookie")
        return slug

    def ethics(self, slug):
        b = self.browser
        self.sign_in(ETHICS)
        b.go(f"{self.base}/staff/studies/{slug}")
        html = self.page("study-ethics")
        links = re.findall(r'href="([^"]*/consents/\d+/pdf)"', html.replace("&#x2f;", "/"))
        check(links, "the ethics officer sees signed consents")
        status, kind, body = self.http(links[0])
        check(status == 200 and body.startswith(b"%PDF"), "a signed PDF opens")
        b.go(f"{self.base}/staff/ethics")
        html = self.page("ethics-console")
        check("CF15/2639" in html, "the console lists the study under its approval")
        b.go(f"{self.base}/staff/audit")
        html = self.page("audit-log")
        check("consent.given" in html, "the audit log shows consents")
        b.cmd("DELETE", "/cookie")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, "target/debug/consentry"))
    ap.add_argument("--screens", help="write phone-size participant screenshots here")
    ap.add_argument("--out", default=os.path.join(REPO, "target/browser"))
    args = ap.parse_args()
    check_tools = [shutil.which("chromedriver"), shutil.which("chromium"), os.path.exists(AXE)]
    if not all(check_tools):
        raise SystemExit("chromium, chromedriver and tests/browser/node_modules/axe-core are needed")

    tmp = tempfile.mkdtemp(prefix="consentry-browser-")
    port, driver_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, CONSENTRY_PORT=str(port), CONSENTRY_ADDRESS="127.0.0.1",
               CONSENTRY_DATABASE_URL=f"sqlite://{tmp}/walk.db?mode=rwc",
               CONSENTRY_PUBLIC_URL=base, CONSENTRY_LOG="warn")
    env.pop("CONSENTRY_TEST_DATABASE_URL", None)
    server = subprocess.Popen([args.binary, "serve", "--demo"], env=env, cwd=REPO,
                              stdout=open(os.path.join(tmp, "server.log"), "w"),
                              stderr=subprocess.STDOUT)
    driver = subprocess.Popen(["chromedriver", f"--port={driver_port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures, pages = [], 0
    try:
        wait_for(base + "/healthz")
        wait_for(f"http://127.0.0.1:{driver_port}/status")
        if args.screens:
            os.makedirs(args.screens, exist_ok=True)
        runs = [(390, 844, True), (390, 844, False), (1280, 800, True), (1280, 800, False)]
        for i, (w, h, js) in enumerate(runs, start=1):
            name = f"{w}x{h}-js-{'on' if js else 'off'}"
            out = os.path.join(args.out, name)
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            walk = Walk(base, f"http://127.0.0.1:{driver_port}", out, w, h, js, args.screens)
            started = time.time()
            try:
                walk.participant(i)
                if w > 600 and js:
                    walk.keyboard_consent(i)
                slug = walk.coordinator(i)
                walk.ethics(slug)
                print(f"ok   {name}: {walk.pages} pages, axe clean ({time.time() - started:.0f} s)")
            except Failure as e:
                failures.append(f"{name}: {e}")
                try:
                    walk.browser.screenshot(os.path.join(out, "failure.png"))
                except Failure:
                    pass
                print(f"FAIL {name}: {e}")
            finally:
                pages += walk.pages
                walk.browser.quit()
                if walk.checker:
                    walk.checker.quit()
    finally:
        driver.terminate()
        server.terminate()
        server.wait(timeout=30)
    print(f"{pages} pages checked; {len(failures)} of 4 runs failed; screenshots in {args.out}")
    if failures:
        print(open(os.path.join(tmp, "server.log")).read()[-3000:], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
