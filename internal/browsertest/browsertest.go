// Package browsertest drives a headless Chromium, through chromedp, for the
// tests of the web pages: the receiver's landing page and the Hub emulator's
// page.
//
// The tests run only when HFHOOKS_TEST_BROWSER=1; otherwise [Open] skips the
// test and says how to run it. A package's tests share one browser, started
// by the first [Open] and stopped by [Main], which the package's TestMain
// calls. Each test gets its own tab, which records every request the page
// makes and every console error, and fails the test at its end when a
// request left the page's origin or the page logged an error (a
// Content-Security-Policy violation, an exception, a failed load).
//
// With HFHOOKS_SCREENSHOTS=DIR, [Tab.CheckLayout] also writes full-page PNG
// screenshots to DIR (relative to the module's root), one per viewport.
package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Environment variables that control the browser tests.
const (
	// EnvEnable set to 1 runs the browser tests.
	EnvEnable = "HFHOOKS_TEST_BROWSER"
	// EnvScreenshots names a directory for the screenshots of CheckLayout.
	EnvScreenshots = "HFHOOKS_SCREENSHOTS"
)

// Timeout bounds each step of a test: an action, a page load or a wait.
const Timeout = 15 * time.Second

// Viewport is a window size the pages must be readable at.
type Viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool // emulate a phone: the page's meta viewport applies
}

// The viewports CheckLayout checks: a laptop screen and a phone.
var (
	Laptop = Viewport{Name: "laptop", Width: 1280, Height: 800}
	Phone  = Viewport{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// browser is the Chromium shared by a package's tests.
var browser struct {
	once sync.Once
	ctx  context.Context // a chromedp context whose browser runs
	stop func()
	err  error
}

// Main runs the package's tests, then stops the browser if a test started
// it. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	os.Exit(code)
}

// startBrowser starts headless Chromium with a fresh profile.
func startBrowser() (context.Context, func(), error) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		return nil, nil, fmt.Errorf("%s=1 but Chromium is not installed (%v): run apt-get install -y chromium, or unset %s to skip the browser tests", EnvEnable, err, EnvEnable)
	}
	profile, err := os.MkdirTemp("", "hfhooks-chromium-")
	if err != nil {
		return nil, nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(profile)
	}
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("starting Chromium (%s): %w", path, err)
	}
	return ctx, stop, nil
}

// Tab is a browser tab on one test server.
type Tab struct {
	t       testing.TB
	ctx     context.Context
	origins []string // where the page may send requests: its own origin, and those of AllowOrigin

	mu       sync.Mutex
	requests []string // the URL of every request the page made
	problems []string // console errors and exceptions
	expected []string // parts of problems the test expects (ExpectProblem)
}

// Open opens a tab at the laptop viewport and loads pageURL in it. At the end
// of the test, it closes the tab and fails the test if the page requested
// anything outside pageURL's origin or logged an error.
//
// It skips the test unless HFHOOKS_TEST_BROWSER=1, and fails it when
// Chromium cannot start.
func Open(t testing.TB, pageURL string) *Tab {
	t.Helper()
	if os.Getenv(EnvEnable) != "1" {
		t.Skipf("browser test: run it with Chromium installed (apt-get install -y chromium) and %s=1 go test ./...", EnvEnable)
	}
	browser.once.Do(func() { browser.ctx, browser.stop, browser.err = startBrowser() })
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	tab := &Tab{t: t}
	tab.AllowOrigin(pageURL)
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithListener(tab.record))
	tab.ctx = ctx
	t.Cleanup(func() {
		cancel()
		tab.mu.Lock()
		defer tab.mu.Unlock()
		for _, r := range tab.requests {
			if !slices.ContainsFunc(tab.origins, func(o string) bool { return r == o || strings.HasPrefix(r, o+"/") }) {
				t.Errorf("the page requested %s, outside the origins %s", r, strings.Join(tab.origins, ", "))
			}
		}
		for _, p := range tab.problems {
			if !slices.ContainsFunc(tab.expected, func(e string) bool { return strings.Contains(p, e) }) {
				t.Errorf("the page logged: %s", p)
			}
		}
	})
	if err := chromedp.Do(ctx); err != nil { // opens the tab, with no timeout
		t.Fatal(err)
	}
	tab.SetViewport(Laptop)
	tab.Goto(pageURL)
	return tab
}

// AllowOrigin lets the tab's pages send requests to the origin of u too:
// a sign-in provider's, say.
func (tab *Tab) AllowOrigin(u string) {
	p, err := url.Parse(u)
	if err != nil {
		tab.t.Fatal(err)
	}
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.origins = append(tab.origins, p.Scheme+"://"+p.Host)
}

// ExpectProblem makes the console errors that contain part expected, so
// that they do not fail the test: the error a browser logs for a page that
// answers 403 on purpose, say.
func (tab *Tab) ExpectProblem(part string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.expected = append(tab.expected, part)
}

// record is the tab's event listener; it must return fast.
func (tab *Tab) record(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		tab.mu.Lock()
		tab.requests = append(tab.requests, ev.Request.URL)
		tab.mu.Unlock()
		return
	case *runtime.EventExceptionThrown:
		problem = "exception: " + ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			problem += " " + ex.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		problem = "console.error"
		for _, a := range ev.Args {
			problem += fmt.Sprintf(" %s%s", a.Value, a.Description)
		}
	case *log.EventEntryAdded:
		// The browser asks for /favicon.ico by itself; the pages declare
		// no icon, so that request's 404 is not the page's error.
		if ev.Entry.Level != log.EntryLevelError || strings.HasSuffix(ev.Entry.URL, "/favicon.ico") {
			return
		}
		problem = fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	tab.mu.Lock()
	tab.problems = append(tab.problems, problem)
	tab.mu.Unlock()
}

// Do runs the actions, failing the test on error or after Timeout.
func (tab *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	Run(tab, chromedp.Steps(actions...))
}

// Run runs the action and returns its value, failing the test on error or
// after Timeout.
func Run[T any](tab *Tab, a chromedp.Action[T]) T {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tab.t.Fatal(err)
	}
	return v
}

// Eval returns the value of a JavaScript expression, decoded into T.
func Eval[T any](tab *Tab, expr string) T {
	tab.t.Helper()
	return Run(tab, chromedp.Evaluate[T](expr))
}

// Goto loads the page at u, failing the test unless its status is 2xx.
func (tab *Tab) Goto(u string) {
	tab.t.Helper()
	tab.checkLoaded(Run(tab, chromedp.NavigateResponse(u)))
}

// Load runs actions that load another page, such as a click on a submit
// button or Enter in a form, and waits until the page is loaded, after
// redirects. It fails the test unless the page's status is 2xx.
func (tab *Tab) Load(actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	tab.checkLoaded(tab.LoadAny(actions...))
}

// LoadAny is Load for a page of any status, which it returns: an error
// page the test expects, say.
func (tab *Tab) LoadAny(actions ...chromedp.Action[chromedp.Void]) *network.Response {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, Timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil || resp == nil {
		tab.t.Fatalf("loading a page: %v", err)
	}
	return resp
}

func (tab *Tab) checkLoaded(resp *network.Response) {
	tab.t.Helper()
	if resp == nil || resp.Status < 200 || resp.Status > 299 {
		tab.t.Fatalf("loading a page: %+v", resp)
	}
}

// WaitFor evaluates the JavaScript expression every 50 ms until it is
// true, failing the test with what after Timeout.
func (tab *Tab) WaitFor(what, expr string) {
	tab.t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(Timeout)
	for !Eval[bool](tab, expr) {
		select {
		case <-tick.C:
		case <-deadline:
			tab.t.Fatalf("waited %v for %s (%s); the page shows:\n%s", Timeout, what, expr, Eval[string](tab, "document.body.innerText"))
		}
	}
}

// Text returns the text of the first element that the CSS selector matches,
// or "" when there is none.
func (tab *Tab) Text(selector string) string {
	tab.t.Helper()
	return Eval[string](tab, fmt.Sprintf(`document.querySelector(%q)?.innerText ?? ""`, selector))
}

// Source returns the page as the browser has it, and as the server sends
// it (fetched again).
func (tab *Tab) Source() (dom, served string) {
	tab.t.Helper()
	dom = Eval[string](tab, "document.documentElement.outerHTML")
	served = Run(tab, chromedp.Evaluate[string]("fetch(location.href).then(r => r.text())", chromedp.EvalAwaitPromise))
	return dom, served
}

// TabTo presses Tab until the focus is on the element that the CSS selector
// matches, as a keyboard user moves through a page, and checks that the
// focused element shows a focus outline. It fails the test when the element
// is not reached within 30 presses.
func (tab *Tab) TabTo(selector string) {
	tab.t.Helper()
	matches := fmt.Sprintf("document.activeElement?.matches(%q) ?? false", selector)
	for presses := 0; !Eval[bool](tab, matches); presses++ {
		if presses == 30 {
			tab.t.Fatalf("30 presses of Tab did not reach %s; the focus is on %s", selector, Eval[string](tab, "document.activeElement?.outerHTML ?? 'nothing'"))
		}
		tab.Do(chromedp.KeyEvent(kb.Tab))
	}
	outline := Eval[string](tab, `(s => s.outlineStyle === "none" || parseFloat(s.outlineWidth) === 0 ? "" : s.outlineWidth + " " + s.outlineStyle)(getComputedStyle(document.activeElement))`)
	if outline == "" {
		tab.t.Errorf("%s has the keyboard focus but no visible focus outline", selector)
	}
}

// SetViewport resizes the window to v and waits for the page to follow.
func (tab *Tab) SetViewport(v Viewport) {
	tab.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if v.Mobile {
		opts = append(opts, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	tab.Do(chromedp.EmulateViewport(v.Width, v.Height, opts...))
	tab.WaitFor(fmt.Sprintf("the layout to be %d px wide", v.Width), fmt.Sprintf("document.documentElement.clientWidth === %d", v.Width))
}

// CheckLayout checks the page at the laptop and the phone viewport: the
// page must not be wider than the window (a wide table may scroll inside its
// own container), nor, on the phone, make the browser zoom out to fit. With HFHOOKS_SCREENSHOTS=DIR, it writes the full page at
// each viewport to DIR/NAME-laptop.png and DIR/NAME-phone.png. It leaves the
// tab at the laptop viewport.
func (tab *Tab) CheckLayout(name string) {
	tab.t.Helper()
	dir := screenshotDir(tab.t)
	for _, v := range []Viewport{Phone, Laptop} {
		tab.SetViewport(v)
		if over := Eval[string](tab, fmt.Sprintf(overflowing, v.Width)); over != "" {
			tab.t.Errorf("%s at %s width (%d px): the page is wider than the window: %s", name, v.Name, v.Width, over)
		}
		if dir == "" {
			continue
		}
		png := Run(tab, chromedp.FullScreenshot(100))
		file := filepath.Join(dir, name+"-"+v.Name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			tab.t.Fatal(err)
		}
		tab.t.Logf("wrote %s", file)
	}
}

// overflowing is a JavaScript expression: "" when the page fits the
// window's width (%d), else the page's width and the elements that stick
// out. A phone shows a page wider than the window zoomed out: the window is
// then wider than the device.
const overflowing = `(w => {
	if (window.innerWidth === w && document.documentElement.scrollWidth <= w) return "";
	const out = [...document.body.querySelectorAll("*")]
		.filter(el => el.getBoundingClientRect().right > w && !el.closest(".table"))
		.slice(0, 5)
		.map(el => el.outerHTML.slice(0, 120));
	return document.documentElement.scrollWidth + " px wide; sticking out: " + out.join(" | ");
})(%[1]d)`

// screenshotDir returns the directory of HFHOOKS_SCREENSHOTS, relative to
// the module's root, or "" when it is not set.
func screenshotDir(t testing.TB) string {
	dir := os.Getenv(EnvScreenshots)
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("%s=%s: no go.mod above the test's directory", EnvScreenshots, dir)
		}
		root = parent
	}
	dir = filepath.Join(root, dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
