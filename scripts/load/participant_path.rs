//! Load on Consentry's participant pages, the way a browser makes it: cookies, CSRF
//! tokens from the forms, redirects followed. Standard library only, so that
//! `scripts/load/participant-path.sh` builds it with `rustc -O` in seconds.
//!
//! Two measurements against running servers (`--base`, their processes `--pid`,
//! each a comma-separated list; `--also postgres` adds the database's CPU):
//!
//! - `path`: `--threads` clients each walk new participants through the public HTML
//!   path (ad, screening, portal, consent form, its knowledge review answered right
//!   the first time, signing, portal, demographics, platform usage, portal) for
//!   `--seconds`; prints paths/s, the server's CPU per
//!   path (from `/proc/PID/stat`), path and request latency p50/p99, and the server's
//!   resident memory (idle before, peak during, after);
//! - `reads`: each participant GET page, and `/healthz` as the baseline, hammered
//!   by `--connections` keep-alive clients for `--seconds` each; prints requests/s
//!   and the ratio to `/healthz`.
//!
//! Any failed request counts as an error; the exit status is 1 when there was one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{env, fs, process, thread};

struct Options {
    /// One server or several (comma-separated); client thread `t` uses `t % n`.
    bases: Vec<String>,
    /// Their processes (comma-separated); CPU and memory are summed over them.
    pids: Vec<u32>,
    ticks: f64,
    threads: usize,
    connections: usize,
    seconds: f64,
    ad: String,
    mode: String,
    /// Also report the CPU of every process of this name (`postgres`).
    also: Option<String>,
    /// The consent-form file whose `[[check]]` answers the participants give.
    consent_form: String,
}

/// The correct answers to the consent form's knowledge-review questions (question key,
/// answer), read from its file: a participant who read the statement knows them.
static ANSWERS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();

/// The `key` and `answer` of each `[[check]]` table of a consent-form file.
fn known_answers(file: &str) -> Vec<(String, String)> {
    let text = fs::read_to_string(file).unwrap_or_default();
    let mut out = Vec::new();
    let (mut in_check, mut key) = (false, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with("[[") || line.starts_with('[') && !line.starts_with("[\"") {
            in_check = line == "[[check]]";
            key = None;
            continue;
        }
        let value = |name: &str| {
            let rest = line.strip_prefix(name)?.trim_start().strip_prefix('=')?;
            Some(rest.trim().trim_matches('"').to_string())
        };
        if !in_check {
            continue;
        }
        if let Some(k) = value("key") {
            key = Some(k);
        } else if let (Some(a), Some(k)) = (value("answer"), key.clone()) {
            out.push((k, a));
        }
    }
    out
}

fn options() -> Options {
    let mut o = Options {
        bases: vec!["http://127.0.0.1:8000".into()],
        pids: Vec::new(),
        ticks: 100.0,
        threads: 16,
        connections: 32,
        seconds: 30.0,
        ad: "moodle-mbbs".into(),
        mode: "path".into(),
        also: None,
        consent_form: "forms/consent/social-media-medical-education.toml".into(),
    };
    let args: Vec<String> = env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--base" => o.bases = value.split(',').map(str::to_string).collect(),
            "--pid" => o.pids = value.split(',').filter_map(|p| p.parse().ok()).collect(),
            "--ticks" => o.ticks = value.parse().unwrap_or(100.0),
            "--threads" => o.threads = value.parse().unwrap_or(16),
            "--connections" => o.connections = value.parse().unwrap_or(32),
            "--seconds" => o.seconds = value.parse().unwrap_or(30.0),
            "--ad" => o.ad = value,
            "--mode" => o.mode = value,
            "--also" => o.also = Some(value),
            "--consent-form" => o.consent_form = value,
            other => {
                eprintln!("unknown argument {other}");
                process::exit(2);
            }
        }
        i += 2;
    }
    o
}

// -- HTTP/1.1 with keep-alive ---------------------------------------------------

struct Response {
    status: u16,
    location: Option<String>,
    body: String,
}

struct Client {
    host: String,
    conn: Option<BufReader<TcpStream>>,
    cookies: Vec<(String, String)>,
    requests: u64,
    latencies: Vec<f64>,
}

impl Client {
    fn new(base: &str) -> Self {
        let host = base.trim_start_matches("http://").trim_end_matches('/').to_string();
        Client { host, conn: None, cookies: Vec::new(), requests: 0, latencies: Vec::new() }
    }

    fn connect(&mut self) -> Result<&mut BufReader<TcpStream>, String> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.host).map_err(|e| format!("connect: {e}"))?;
            s.set_nodelay(true).ok();
            s.set_read_timeout(Some(Duration::from_secs(60))).ok();
            self.conn = Some(BufReader::new(s));
        }
        self.conn.as_mut().ok_or_else(|| "no connection".to_string())
    }

    fn send(&mut self, method: &str, path: &str, form: Option<&str>) -> Result<Response, String> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: consentry-load\r\nAccept: text/html\r\n",
            self.host
        );
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        if let Some(body) = form {
            head.push_str(&format!(
                "Origin: http://{}\r\nSec-Fetch-Site: same-origin\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                self.host,
                body.len()
            ));
        }
        head.push_str("\r\n");
        if let Some(body) = form {
            head.push_str(body);
        }
        let started = Instant::now();
        let fresh = self.conn.is_none();
        let first = self.exchange(&head);
        let result = match first {
            // A kept-alive connection the server closed while idle: once more, anew.
            Err(Retry) if !fresh => {
                self.conn = None;
                self.exchange(&head)
            }
            other => other,
        };
        self.requests += 1;
        self.latencies.push(started.elapsed().as_secs_f64());
        result.map_err(|_| format!("{method} {path}: the connection failed"))
    }

    fn exchange(&mut self, request: &str) -> Result<Response, Retry> {
        let conn = self.connect().map_err(|_| Retry)?;
        if conn.get_mut().write_all(request.as_bytes()).is_err() {
            self.conn = None;
            return Err(Retry);
        }
        let read = read_response(conn);
        match read {
            Ok((response, cookies, close)) => {
                for (k, v) in cookies {
                    self.cookies.retain(|(name, _)| *name != k);
                    if !v.is_empty() {
                        self.cookies.push((k, v));
                    }
                }
                if close {
                    self.conn = None;
                }
                Ok(response)
            }
            Err(_) => {
                self.conn = None;
                Err(Retry)
            }
        }
    }

    /// A request with its redirects followed, as a browser does.
    fn go(&mut self, method: &str, path: &str, form: Option<&str>) -> Result<Response, String> {
        let mut r = self.send(method, path, form)?;
        let mut hops = 0;
        while (300..400).contains(&r.status) && hops < 5 {
            let to = r.location.clone().ok_or("a redirect without a Location")?;
            let to = to.split('#').next().unwrap_or("/").to_string();
            let to = to.strip_prefix(&format!("http://{}", self.host)).unwrap_or(&to).to_string();
            r = self.send("GET", &to, None)?;
            hops += 1;
        }
        if r.status >= 400 {
            let text: String = r.body.chars().take(300).collect();
            return Err(format!("{method} {path}: {} {text}", r.status));
        }
        Ok(r)
    }
}

struct Retry;

type Parsed = (Response, Vec<(String, String)>, bool);

fn read_response(conn: &mut BufReader<TcpStream>) -> std::io::Result<Parsed> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(bad("closed"));
    }
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("status"))?;
    let (mut length, mut chunked, mut close, mut location) = (None, false, false, None);
    let mut cookies = Vec::new();
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(bad("headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else { continue };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            "location" => location = Some(value.to_string()),
            "set-cookie" => {
                let pair = value.split(';').next().unwrap_or("");
                if let Some((k, v)) = pair.split_once('=') {
                    let gone = value.to_ascii_lowercase().contains("max-age=0");
                    cookies.push((k.trim().to_string(), if gone { String::new() } else { v.trim().to_string() }));
                }
            }
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            conn.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| bad("chunk"))?;
            if size == 0 {
                line.clear();
                conn.read_line(&mut line)?;
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            conn.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            conn.read_exact(&mut crlf)?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        conn.read_exact(&mut body)?;
    } else {
        conn.read_to_end(&mut body)?;
        close = true;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    Ok((Response { status, location, body }, cookies, close))
}

// -- forms ------------------------------------------------------------------------

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn form(fields: &[(String, String)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The inputs of the first form posting to `action`: (type, name, value).
fn inputs(html: &str, action: &str) -> Vec<(String, String, String)> {
    let Some(at) = html.find(&format!("action=\"{action}")) else { return Vec::new() };
    let end = html[at..].find("</form>").map_or(html.len(), |e| at + e);
    let mut found = Vec::new();
    let mut rest = &html[at..end];
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        if let Some(name) = attribute(tag, "name") {
            let kind = attribute(tag, "type").unwrap_or_else(|| "text".into());
            found.push((kind, name, attribute(tag, "value").unwrap_or_default()));
        }
        rest = &rest[tag_end..];
    }
    found
}

fn csrf(html: &str, action: &str) -> Result<(String, String), String> {
    inputs(html, action)
        .into_iter()
        .find(|(_, n, _)| n == "csrf_token")
        .map(|(_, n, v)| (n, v))
        .ok_or_else(|| format!("no CSRF token in the form posting to {action}"))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

// -- the participant's path -------------------------------------------------------

/// One new participant from the ad to both questionnaires; the client keeps their
/// session cookie.
fn path(c: &mut Client, ad: &str, email: &str, sign_and_answer: bool) -> Result<(), String> {
    let page = c.go("GET", &format!("/ads/{ad}"), None)?;
    let action = format!("/ads/{ad}/enrol");
    let mut fields = vec![csrf(&page.body, &action)?];
    fields.extend(pairs(&[
        ("name", "Load Tester"),
        ("email", email),
        ("a[enrolled_in_medicine]", "yes"),
        ("a[entry_pathway]", "undergraduate"),
    ]));
    let portal = c.go("POST", &action, Some(&form(&fields)))?;
    if !portal.body.contains("/participant/consent") {
        return Err("screening did not lead to the participant's page".into());
    }
    if !sign_and_answer {
        return Ok(());
    }
    let mut page = c.go("GET", "/participant/consent", None)?;
    let review = "/participant/consent/checks";
    if page.body.contains(&format!("action=\"{review}\"")) {
        let mut fields: Vec<(String, String)> = inputs(&page.body, review)
            .into_iter()
            .filter(|(kind, _, _)| kind == "hidden")
            .map(|(_, name, value)| (name, value))
            .collect();
        for (key, answer) in ANSWERS.get().into_iter().flatten() {
            fields.push((format!("answers[{key}]"), answer.clone()));
        }
        page = c.go("POST", review, Some(&form(&fields)))?;
        if !page.body.contains("You answered the questions") {
            return Err("the knowledge review was not passed (see --consent-form)".into());
        }
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for (kind, name, value) in inputs(&page.body, "/participant/consent#") {
        if kind == "hidden" || kind == "checkbox" {
            fields.push((name, value));
        }
    }
    fields.push(("signature.typed_name".into(), "Load Tester".into()));
    let portal = c.go("POST", "/participant/consent", Some(&form(&fields)))?;
    if !portal.body.contains("consent is recorded") {
        return Err("signing did not record a consent".into());
    }
    let q = "/participant/questionnaires/demographics";
    let page = c.go("GET", q, None)?;
    let mut fields = vec![csrf(&page.body, q)?];
    fields.extend(pairs(&[
        ("a[gender]", "female"),
        ("a[age]", "21"),
        ("a[entry_pathway]", "undergraduate"),
        ("a[year_of_course]", "2"),
        ("action", "submit"),
    ]));
    let page = c.go("POST", q, Some(&form(&fields)))?;
    let q = "/participant/questionnaires/platform-usage";
    let page = if page.body.contains(&format!("action=\"{q}")) { page } else { c.go("GET", q, None)? };
    let mut fields = vec![csrf(&page.body, q)?];
    fields.extend(pairs(&[
        ("a[platforms_used]", "youtube"),
        ("a[preferred_platform]", "youtube"),
        ("a[frequency_youtube]", "daily"),
        ("a[purposes]", "resource_sharing"),
        ("a[hours_per_day]", "1,5"),
        ("action", "submit"),
    ]));
    let done = c.go("POST", q, Some(&form(&fields)))?;
    if done.body.contains("error-summary") || done.body.contains("more question") {
        return Err("the platform-usage answers were not taken".into());
    }
    Ok(())
}

// -- the server's process -----------------------------------------------------------

/// The database counters of `/metrics` summed over the servers: (statements, write
/// transactions); zeros where metrics are off.
fn database_counters(bases: &[String]) -> (f64, f64) {
    let mut total = (0.0, 0.0);
    for base in bases {
        let mut c = Client::new(base);
        let Ok(r) = c.send("GET", "/metrics", None) else { continue };
        for line in r.body.lines() {
            let value = |l: &str| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok());
            if line.starts_with("consentry_database_statements_total ") {
                total.0 += value(line).unwrap_or(0.0);
            } else if line.starts_with("consentry_database_write_transactions_total ") {
                total.1 += value(line).unwrap_or(0.0);
            }
        }
    }
    total
}

/// The processes now running under `name` (as `/proc/PID/comm` gives it).
fn named(name: &str) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name))
        .collect()
}

/// CPU seconds of every process named `name`, by process (to subtract per process).
fn cpu_by_process(name: &str, ticks: f64) -> Vec<(u32, f64)> {
    named(name).into_iter().map(|p| (p, cpu_seconds(p, ticks))).collect()
}

fn cpu_of(pids: &[u32], ticks: f64) -> f64 {
    pids.iter().map(|p| cpu_seconds(*p, ticks)).sum()
}

fn rss_of(pids: &[u32]) -> f64 {
    pids.iter().map(|p| rss_mib(*p)).sum()
}

fn cpu_seconds(pid: u32, ticks: f64) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `after` starts at field 3.
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / ticks
}

fn rss_mib(pid: u32) -> f64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn run_id() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn run_path(o: &Options) -> u64 {
    let idle = rss_of(&o.pids);
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(Mutex::new(idle));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let run = run_id();
    let also0 = o.also.as_deref().map(|n| cpu_by_process(n, o.ticks)).unwrap_or_default();
    let db0 = database_counters(&o.bases);
    let (cpu0, t0) = (cpu_of(&o.pids, o.ticks), Instant::now());
    let monitor = {
        let (stop, peak, pids) = (stop.clone(), peak.clone(), o.pids.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let now = rss_of(&pids);
                if let Ok(mut p) = peak.lock() {
                    *p = p.max(now);
                }
                thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let workers: Vec<_> = (0..o.threads)
        .map(|t| {
            let (stop, errors, first_error) = (stop.clone(), errors.clone(), first_error.clone());
            let (base, ad) = (o.bases[t % o.bases.len()].clone(), o.ad.clone());
            thread::spawn(move || {
                let (mut done, mut times, mut requests, mut latencies) = (0u64, Vec::new(), 0, Vec::new());
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut c = Client::new(&base);
                    let started = Instant::now();
                    let email = format!("load-{run}-{t}-{i}@example.edu");
                    match path(&mut c, &ad, &email, true) {
                        Ok(()) => {
                            done += 1;
                            times.push(started.elapsed().as_secs_f64());
                        }
                        Err(e) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut f) = first_error.lock() {
                                f.get_or_insert(e);
                            }
                        }
                    }
                    requests += c.requests;
                    latencies.extend(c.latencies);
                    i += 1;
                }
                (done, times, requests, latencies)
            })
        })
        .collect();
    thread::sleep(Duration::from_secs_f64(o.seconds));
    stop.store(true, Ordering::Relaxed);
    let (mut paths, mut times, mut requests, mut latencies) = (0, Vec::new(), 0, Vec::new());
    for w in workers {
        if let Ok((d, t, r, l)) = w.join() {
            paths += d;
            times.extend(t);
            requests += r;
            latencies.extend(l);
        }
    }
    let (cpu, elapsed) = (cpu_of(&o.pids, o.ticks) - cpu0, t0.elapsed().as_secs_f64());
    let also = o.also.as_deref().map(|n| {
        let before = |pid: u32| also0.iter().find(|(p, _)| *p == pid).map_or(0.0, |(_, c)| *c);
        cpu_by_process(n, o.ticks).into_iter().map(|(p, c)| c - before(p)).sum::<f64>()
    });
    monitor.join().ok();
    let db1 = database_counters(&o.bases);
    let peak = peak.lock().map_or(0.0, |p| *p);
    times.sort_by(f64::total_cmp);
    latencies.sort_by(f64::total_cmp);
    let errors = errors.load(Ordering::Relaxed);
    println!(
        "participant path, {} client threads, {} server(s), {elapsed:.1} s",
        o.threads,
        o.bases.len()
    );
    println!("  paths completed     {paths} ({:.1} paths/s), {errors} failed", paths as f64 / elapsed);
    println!(
        "  requests            {requests} ({:.1} per path, {:.0}/s)",
        requests as f64 / (paths + errors).max(1) as f64,
        requests as f64 / elapsed
    );
    println!(
        "  server CPU          {cpu:.2} s ({:.2} ms per path, {:.0} % of one core)",
        cpu * 1000.0 / paths.max(1) as f64,
        cpu * 100.0 / elapsed
    );
    println!(
        "  path latency        p50 {:.0} ms, p99 {:.0} ms",
        percentile(&times, 0.5) * 1000.0,
        percentile(&times, 0.99) * 1000.0
    );
    println!(
        "  request latency     p50 {:.1} ms, p99 {:.1} ms",
        percentile(&latencies, 0.5) * 1000.0,
        percentile(&latencies, 0.99) * 1000.0
    );
    let tried = (paths + errors).max(1) as f64;
    println!(
        "  database            {:.1} statements and {:.1} write transactions per path",
        (db1.0 - db0.0) / tried,
        (db1.1 - db0.1) / tried
    );
    if let (Some(name), Some(also)) = (o.also.as_deref(), also) {
        println!(
            "  {name} CPU        {also:.2} s ({:.2} ms per path)",
            also * 1000.0 / paths.max(1) as f64
        );
    }
    println!("  server memory (RSS) idle {idle:.0} MiB, peak {peak:.0} MiB, after {:.0} MiB", rss_of(&o.pids));
    if let Ok(Some(e)) = first_error.lock().map(|f| f.clone()) {
        println!("  first error: {e}");
    }
    errors
}

fn hammer(o: &Options, path: &str, cookies: &[(String, String)]) -> (f64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..o.connections)
        .map(|_| {
            let (stop, failed) = (stop.clone(), failed.clone());
            let (base, path, cookies) = (o.bases[0].clone(), path.to_string(), cookies.to_vec());
            thread::spawn(move || {
                let mut c = Client::new(&base);
                c.cookies = cookies;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    match c.send("GET", &path, None) {
                        Ok(r) if r.status == 200 => n += 1,
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                n
            })
        })
        .collect();
    thread::sleep(Duration::from_secs_f64(o.seconds));
    stop.store(true, Ordering::Relaxed);
    let total: u64 = workers.into_iter().filter_map(|w| w.join().ok()).sum();
    (total as f64 / started.elapsed().as_secs_f64(), failed.load(Ordering::Relaxed))
}

fn run_reads(o: &Options) -> u64 {
    let run = run_id();
    let mut done = Client::new(&o.bases[0]);
    let mut fresh = Client::new(&o.bases[0]);
    let setup = path(&mut done, &o.ad, &format!("reads-{run}-done@example.edu"), true)
        .and_then(|()| path(&mut fresh, &o.ad, &format!("reads-{run}-new@example.edu"), false));
    if let Err(e) = setup {
        println!("reads: setting up two participants failed: {e}");
        return 1;
    }
    let pages: Vec<(&str, String, &[(String, String)])> = vec![
        ("/healthz (baseline)", "/healthz".into(), &[]),
        ("ad", format!("/ads/{}", o.ad), &[]),
        ("portal", "/participant".into(), &done.cookies),
        ("consent form (not signed)", "/participant/consent".into(), &fresh.cookies),
        ("receipt", "/participant/receipt".into(), &done.cookies),
        ("demographics", "/participant/questionnaires/demographics".into(), &done.cookies),
        ("platform usage", "/participant/questionnaires/platform-usage".into(), &done.cookies),
        ("availability", "/participant/availability".into(), &done.cookies),
    ];
    println!("participant pages, {} keep-alive connections, {} s each", o.connections, o.seconds);
    let (mut baseline, mut errors) = (0.0, 0);
    for (name, url, cookies) in pages {
        let before = database_counters(&o.bases[..1]);
        let (rate, failed) = hammer(o, &url, cookies);
        let after = database_counters(&o.bases[..1]);
        let served = (rate * o.seconds).max(1.0);
        if baseline == 0.0 {
            baseline = rate;
        }
        errors += failed;
        println!(
            "  {name:<28} {rate:>8.0} req/s  {:.2}x /healthz  {:>5.1} statements, {:.2} writes a request  {failed} failed",
            rate / baseline,
            (after.0 - before.0) / served,
            (after.1 - before.1) / served
        );
    }
    errors
}

fn main() {
    let o = options();
    ANSWERS.get_or_init(|| known_answers(&o.consent_form));
    let errors = match o.mode.as_str() {
        "path" => run_path(&o),
        "reads" => run_reads(&o),
        other => {
            eprintln!("--mode is path or reads, not {other}");
            2
        }
    };
    process::exit(if errors > 0 { 1 } else { 0 });
}
