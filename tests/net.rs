//! The outbound client against sites on this machine: names and literals that lead to
//! private addresses are refused before any request leaves, an allowed intranet server cannot
//! redirect into what is not allowed, redirects, time, size and content type are bounded,
//! proxy settings in the environment are ignored, and a link card comes back with its image.
//! A POST (a push) gets the same address checks and time limit, is not redirected, and brings
//! back the status and `Retry-After`.

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use futures_util::stream::{self, StreamExt};
use hearth::net::{
    Client, FetchError, Lookup, Policy, Resolver, USER_AGENT, Want, fetch_card, parse_networks,
};
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;
use url::Url;

const MB: usize = 1 << 20;

/// A page with a card, its image on the same site.
const PAGE: &str = r#"<!doctype html><html><head><title>Plain title</title>
<meta property="og:title" content="Garden club meets Tuesday">
<meta property="og:image" content="/pic.png"></head><body>"#;

/// A local server that counts the requests reaching it.
struct Site {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Site {
    async fn spawn(ip: &str, routes: Router) -> Site {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        Site::serve(listener, routes)
    }

    fn serve(listener: TcpListener, routes: Router) -> Site {
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let app = routes.layer(middleware::from_fn_with_state(hits.clone(), count));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Site { addr, hits }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }
}

async fn count(State(hits): State<Arc<AtomicUsize>>, req: Request, next: Next) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    next.run(req).await
}

/// A site serving [`PAGE`], its picture, and whatever `routes` adds.
fn pages(routes: Router) -> Router {
    routes
        .route("/", get(|| async { html(PAGE.to_owned()) }))
        .route(
            "/pic.png",
            get(|| async { typed("image/png", vec![0x89; 1000]) }),
        )
}

fn html(body: String) -> Response {
    typed("text/html; charset=utf-8", body)
}

fn typed(content_type: &'static str, body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// The test's DNS: fixed answers per name, and a record of every lookup. A name with several
/// answers gives the next one at each lookup, then keeps giving the last.
#[derive(Default)]
struct Names {
    answers: HashMap<String, Vec<Vec<IpAddr>>>,
    asked: Mutex<Vec<String>>,
}

impl Names {
    fn with(mut self, name: &str, ips: &[&str]) -> Self {
        let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
        self.answers.entry(name.to_owned()).or_default().push(ips);
        self
    }

    fn lookups(&self) -> usize {
        self.asked.lock().unwrap().len()
    }
}

impl Resolver for Names {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            let mut asked = self.asked.lock().unwrap();
            let before = asked.iter().filter(|name| *name == host).count();
            asked.push(host.to_owned());
            let answers = self.answers.get(host).ok_or(io::ErrorKind::NotFound)?;
            Ok(answers[before.min(answers.len() - 1)].clone())
        })
    }
}

/// A client using `names`, which may also reach the `allow` networks; quick to give up, so
/// a test that fails does not hang.
fn client(names: &Arc<Names>, allow: &[&str]) -> Client {
    let policy = Policy {
        allow: parse_networks(allow).unwrap(),
        timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(1),
        ..Policy::default()
    };
    Client::with_resolver(policy, names.clone()).unwrap()
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn blocked(ip: &str) -> FetchError {
    FetchError::Blocked(ip.parse().unwrap())
}

#[tokio::test]
async fn names_that_resolve_to_private_addresses_are_refused_before_any_request() {
    let site = Site::spawn("127.0.0.1", pages(Router::new())).await;
    let public = "93.184.215.14";
    let cases: &[(&str, &[&str], &str)] = &[
        ("loopback.test", &["127.0.0.1"], "127.0.0.1"),
        ("private.test", &["10.1.2.3"], "10.1.2.3"),
        ("metadata.test", &["169.254.169.254"], "169.254.169.254"),
        ("mapped.test", &["::ffff:127.0.0.1"], "::ffff:127.0.0.1"),
        ("cgnat.test", &["100.64.0.1"], "100.64.0.1"),
        ("v6-loopback.test", &["::1"], "::1"),
        ("v6-metadata.test", &["fd00:ec2::254"], "fd00:ec2::254"),
        // One bad address among good ones is enough: any of them may be the one connected to.
        ("public-first.test", &[public, "127.0.0.1"], "127.0.0.1"),
        ("private-first.test", &["127.0.0.1", public], "127.0.0.1"),
    ];
    let names = cases
        .iter()
        .fold(Names::default(), |names, (name, ips, _)| {
            names.with(name, ips)
        });
    let names = Arc::new(names);
    let client = client(&names, &[]);
    for &(name, _, refused) in cases {
        for want in [Want::html(), Want::image()] {
            let target = url(&format!("http://{name}:{}/pic.png", site.port()));
            let err = client.get(&target, &want).await.unwrap_err();
            assert_eq!(err, blocked(refused), "{name}");
        }
    }
    assert_eq!(site.hits(), 0, "no request reached the server");
    assert_eq!(names.lookups(), 2 * cases.len(), "one lookup per fetch");
    let err = client
        .get(&url("http://metadata.test/"), &Want::html())
        .await;
    assert_eq!(
        err.unwrap_err().to_string(),
        "blocked address 169.254.169.254"
    );
}

#[tokio::test]
async fn ip_literals_are_checked_without_a_lookup() {
    let site = Site::spawn("127.0.0.1", pages(Router::new())).await;
    let port = site.port();
    let names = Arc::new(Names::default());
    let client = client(&names, &[]);
    let cases = [
        (format!("http://127.0.0.1:{port}/"), "127.0.0.1"),
        (format!("https://127.0.0.1:{port}/"), "127.0.0.1"),
        // Other spellings of 127.0.0.1, which the URL parser reads as that address.
        (format!("http://2130706433:{port}/"), "127.0.0.1"),
        (format!("http://0x7f.1:{port}/"), "127.0.0.1"),
        (format!("http://127.1:{port}/"), "127.0.0.1"),
        (format!("http://0177.0.0.1:{port}/"), "127.0.0.1"),
        (format!("http://127.0.0.1.:{port}/"), "127.0.0.1"),
        // 0.0.0.0 reaches this machine's own listeners.
        (format!("http://0.0.0.0:{port}/"), "0.0.0.0"),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            "::ffff:127.0.0.1",
        ),
        (format!("http://[::1]:{port}/"), "::1"),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "169.254.169.254",
        ),
        (
            "http://[fd00:ec2::254]/latest/meta-data/".into(),
            "fd00:ec2::254",
        ),
        ("http://10.1.2.3/".into(), "10.1.2.3"),
        ("http://100.64.0.1/".into(), "100.64.0.1"),
        ("http://[64:ff9b::7f00:1]/".into(), "64:ff9b::7f00:1"),
    ];
    for (target, refused) in &cases {
        let err = client.get(&url(target), &Want::html()).await.unwrap_err();
        assert_eq!(err, blocked(refused), "{target}");
    }
    assert_eq!(site.hits(), 0, "no request reached the server");
    assert_eq!(names.lookups(), 0, "literals are never looked up");
}

#[tokio::test]
async fn an_allowed_network_is_reached_and_nothing_else_is() {
    let site = Site::spawn("127.0.0.2", pages(Router::new())).await;
    let names = Arc::new(Names::default().with("wiki.intranet", &["127.0.0.2"]));
    let allowed = client(&names, &["127.0.0.2/32"]);
    for target in [
        format!("http://wiki.intranet:{}/", site.port()),
        format!("http://127.0.0.2:{}/", site.port()),
    ] {
        let page = allowed.get(&url(&target), &Want::html()).await.unwrap();
        assert_eq!(page.body, PAGE.as_bytes(), "{target}");
    }
    assert_eq!(site.hits(), 2);

    let other = client(&names, &["127.0.0.3/32", "10.0.0.0/8"]);
    let err = other.get(&site.url("/"), &Want::html()).await.unwrap_err();
    assert_eq!(err, blocked("127.0.0.2"));
    assert_eq!(site.hits(), 2);
}

#[tokio::test]
async fn an_allowed_server_cannot_redirect_to_an_address_that_is_not_allowed() {
    let inside = Site::spawn("127.0.0.1", pages(Router::new())).await;
    let port = inside.port();
    let routes = Router::new()
        .route(
            "/to-literal",
            get(move || async move { Redirect::to(&format!("http://127.0.0.1:{port}/")) }),
        )
        .route(
            "/to-name",
            get(move || async move { Redirect::to(&format!("http://inside.test:{port}/")) }),
        )
        .route(
            "/to-mapped",
            get(move || async move {
                Redirect::permanent(&format!("http://[::ffff:127.0.0.1]:{port}/"))
            }),
        );
    let gate = Site::spawn("127.0.0.2", routes).await;
    let names = Arc::new(Names::default().with("inside.test", &["127.0.0.1"]));
    let client = client(&names, &["127.0.0.2/32"]);
    let cases = [
        ("/to-literal", "127.0.0.1"),
        ("/to-name", "127.0.0.1"),
        ("/to-mapped", "::ffff:127.0.0.1"),
    ];
    for (path, refused) in cases {
        let err = client
            .get(&gate.url(path), &Want::html())
            .await
            .unwrap_err();
        assert_eq!(err, blocked(refused), "{path}");
    }
    assert_eq!(gate.hits(), 3, "the allowed server was asked");
    assert_eq!(inside.hits(), 0, "the server behind it never was");
}

/// `/hop/{n}` redirects to `/hop/{n-1}` (in turn by a relative path, an absolute path and a
/// full URL); `/hop/0` is a page.
fn hops(port: u16) -> Router {
    let hop = move |Path(n): Path<u32>| async move {
        match n {
            0 => html(PAGE.to_owned()),
            n if n % 3 == 0 => Redirect::to(&format!("{}", n - 1)).into_response(),
            n if n % 3 == 1 => Redirect::temporary(&format!("/hop/{}", n - 1)).into_response(),
            n => {
                let next = format!("http://hops.test:{port}/hop/{}", n - 1);
                (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, next)]).into_response()
            }
        }
    };
    Router::new()
        .route("/hop/{n}", get(hop))
        .route(
            "/to-ftp",
            get(|| async { Redirect::to("ftp://127.0.0.2/file") }),
        )
        .route(
            "/nowhere",
            get(|| async { StatusCode::FOUND.into_response() }),
        )
}

#[tokio::test]
async fn five_redirects_are_followed_and_a_sixth_is_refused() {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = Site::serve(listener, hops(port));
    let names = Arc::new(Names::default().with("hops.test", &["127.0.0.2"]));
    let client = client(&names, &["127.0.0.2/32"]);

    let start = url(&format!("http://hops.test:{port}/hop/5"));
    let page = client.get(&start, &Want::html()).await.unwrap();
    assert_eq!(page.url.path(), "/hop/0");
    assert_eq!(page.body, PAGE.as_bytes());
    assert_eq!(site.hits(), 6);

    let start = url(&format!("http://hops.test:{port}/hop/6"));
    let err = client.get(&start, &Want::html()).await.unwrap_err();
    assert_eq!(err, FetchError::TooManyRedirects);
    assert_eq!(err.to_string(), "too many redirects");
    assert_eq!(site.hits(), 12, "six asked, the seventh never");

    let err = client.get(&site.url("/to-ftp"), &Want::html()).await;
    assert_eq!(err.unwrap_err(), FetchError::Scheme("ftp".into()));
    let err = client.get(&site.url("/nowhere"), &Want::html()).await;
    assert_eq!(err.unwrap_err(), FetchError::BadRedirect);
}

#[tokio::test]
async fn a_name_is_looked_up_once_and_its_checked_address_is_the_one_connected_to() {
    // Two servers on one port: the allowed 127.0.0.2 and the refused 127.0.0.1.
    let (allowed, refused) = same_port().await;
    let outside = Site::serve(allowed, pages(Router::new()));
    let inside = Site::serve(refused, pages(Router::new()));
    // A name that answers an allowed address first and a refused one after.
    let names = Names::default()
        .with("flip.test", &["127.0.0.2"])
        .with("flip.test", &["127.0.0.1"]);
    let names = Arc::new(names);
    let client = client(&names, &["127.0.0.2/32"]);
    let target = url(&format!("http://flip.test:{}/", outside.port()));
    client.get(&target, &Want::html()).await.unwrap();
    assert_eq!(names.lookups(), 1);
    assert_eq!((outside.hits(), inside.hits()), (1, 0));
}

/// Listeners on 127.0.0.2 and 127.0.0.1 with the same port.
async fn same_port() -> (TcpListener, TcpListener) {
    for _ in 0..20 {
        let first = TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = first.local_addr().unwrap().port();
        if let Ok(second) = TcpListener::bind(("127.0.0.1", port)).await {
            return (first, second);
        }
    }
    panic!("no port free on both addresses");
}

#[tokio::test]
async fn a_server_that_hangs_is_given_up_on_at_the_time_limit() {
    let routes = Router::new()
        .route(
            "/silent",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .route(
            "/trickle",
            get(|| async {
                let first = stream::once(async { Ok::<_, Infallible>("<html><head>") });
                let body = Body::from_stream(first.chain(stream::pending()));
                typed("text/html", body)
            }),
        );
    let site = Site::spawn("127.0.0.2", routes).await;
    let policy = Policy {
        allow: parse_networks(&["127.0.0.2"]).unwrap(),
        timeout: Duration::from_millis(500),
        ..Policy::default()
    };
    let client = Client::with_resolver(policy, Arc::new(Names::default())).unwrap();
    for path in ["/silent", "/trickle"] {
        let started = Instant::now();
        let err = client
            .get(&site.url(path), &Want::html())
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert_eq!(err, FetchError::TimedOut, "{path}");
        assert_eq!(err.to_string(), "timed out");
        assert!(
            took >= Duration::from_millis(450),
            "{path} gave up after {took:?}"
        );
        assert!(
            took < Duration::from_secs(2),
            "{path} gave up after {took:?}"
        );
    }
    assert_eq!(Policy::default().timeout, Duration::from_secs(5));
}

/// A 3 MB page whose head comes first.
fn long_page() -> String {
    let mut page = PAGE.to_owned();
    let line = "<p>All work and no play makes Jack a dull boy.</p>\n";
    while page.len() < 3 * MB {
        page.push_str(line);
    }
    page
}

#[tokio::test]
async fn a_long_page_is_read_to_one_megabyte_and_its_card_still_found() {
    let routes = Router::new().route("/long", get(|| async { html(long_page()) }));
    let site = Site::spawn("127.0.0.2", pages(routes)).await;
    let names = Arc::new(Names::default());
    let client = client(&names, &["127.0.0.2/32"]);

    let page = client.get(&site.url("/long"), &Want::html()).await.unwrap();
    assert_eq!(page.body.len(), MB);
    assert!(page.truncated);
    assert_eq!(&page.body[..], &long_page().as_bytes()[..MB]);

    let (card, image) = fetch_card(&client, &site.url("/long")).await.unwrap();
    assert_eq!(card.title, "Garden club meets Tuesday");
    assert_eq!(card.site, "127.0.0.2");
    assert_eq!(card.image_url, Some(site.url("/pic.png")));
    assert_eq!(image, Some(vec![0x89; 1000]));
}

#[tokio::test]
async fn an_image_over_the_limit_is_refused_and_the_card_comes_without_it() {
    let huge = || typed("image/png", vec![0u8; 6 * MB]);
    let streamed = || {
        let chunks = stream::iter((0..96).map(|_| Ok::<_, Infallible>(vec![0u8; 64 * 1024])));
        typed("image/jpeg", Body::from_stream(chunks))
    };
    let routes = Router::new()
        .route("/huge.png", get(move || async move { huge() }))
        .route("/streamed.jpg", get(move || async move { streamed() }))
        .route(
            "/svg.png",
            get(|| async { typed("image/svg+xml", "<svg/>") }),
        )
        .route(
            "/with-huge-image",
            get(|| async {
                html(
                    r#"<title>Big picture</title><meta property="og:image" content="/huge.png">"#
                        .into(),
                )
            }),
        );
    let site = Site::spawn("127.0.0.2", routes).await;
    let names = Arc::new(Names::default());
    let client = client(&names, &["127.0.0.2/32"]);

    let too_large = FetchError::TooLarge { limit: 5 * MB };
    for path in ["/huge.png", "/streamed.jpg"] {
        let err = client
            .get(&site.url(path), &Want::image())
            .await
            .unwrap_err();
        assert_eq!(err, too_large, "{path}");
    }
    assert_eq!(too_large.to_string(), "too large (over 5242880 bytes)");
    let err = client.get(&site.url("/svg.png"), &Want::image()).await;
    assert_eq!(err.unwrap_err().to_string(), "not an image (image/svg+xml)");

    let (card, image) = fetch_card(&client, &site.url("/with-huge-image"))
        .await
        .unwrap();
    assert_eq!(card.title, "Big picture");
    assert_eq!((card.image_url, image), (None, None));
}

#[tokio::test]
async fn only_the_asked_content_types_are_taken() {
    let routes = Router::new()
        .route("/text", get(|| async { typed("text/plain", "hello") }))
        .route("/json", get(|| async { typed("application/json", "{}") }))
        .route(
            "/untyped",
            get(|| async { Response::new(Body::from("<title>x</title>")) }),
        )
        .route(
            "/upper",
            get(|| async { typed("TEXT/HTML ; charset=UTF-8", PAGE) }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }));
    let site = Site::spawn("127.0.0.2", pages(routes)).await;
    let names = Arc::new(Names::default());
    let client = client(&names, &["127.0.0.2/32"]);
    let get = async |path: &str, want: Want| client.get(&site.url(path), &want).await;

    let err = get("/text", Want::html()).await.unwrap_err();
    assert_eq!(err.to_string(), "not html (text/plain)");
    let err = get("/json", Want::html()).await.unwrap_err();
    assert_eq!(err.to_string(), "not html (application/json)");
    let err = get("/untyped", Want::html()).await.unwrap_err();
    assert_eq!(err.to_string(), "not html (no content type)");
    let err = get("/", Want::image()).await.unwrap_err();
    assert_eq!(err.to_string(), "not an image (text/html)");
    let err = get("/pic.png", Want::html()).await.unwrap_err();
    assert_eq!(err.to_string(), "not html (image/png)");
    assert_eq!(
        get("/missing", Want::html()).await,
        Err(FetchError::Status(404))
    );

    let page = get("/upper", Want::html()).await.unwrap();
    assert_eq!(page.content_type, "text/html");
    assert!(!page.truncated);
    let err = fetch_card(&client, &site.url("/text")).await.unwrap_err();
    assert_eq!(err.to_string(), "not html (text/plain)");
}

#[tokio::test]
async fn only_http_and_https_are_fetched() {
    let names = Arc::new(Names::default().with("files.test", &["93.184.215.14"]));
    let client = client(&names, &[]);
    for (target, scheme) in [
        ("ftp://files.test/pub/file.html", "ftp"),
        ("file:///etc/passwd", "file"),
        ("gopher://files.test/", "gopher"),
        ("data:text/html,<title>x</title>", "data"),
        ("ws://files.test/socket", "ws"),
    ] {
        let err = client.get(&url(target), &Want::html()).await.unwrap_err();
        assert_eq!(err, FetchError::Scheme(scheme.into()), "{target}");
    }
    let err = client.get(&url("ftp://files.test/"), &Want::html()).await;
    assert_eq!(
        err.unwrap_err().to_string(),
        r#"unsupported scheme "ftp": only http and https are fetched"#
    );
    assert_eq!(names.lookups(), 0);
}

#[tokio::test]
async fn requests_name_hearth_and_carry_no_cookies() {
    let echo = |headers: HeaderMap| async move {
        let value = |name| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        let agent = value(header::USER_AGENT).unwrap_or_default();
        let cookie = value(header::COOKIE).unwrap_or_default();
        html(format!("<title>{agent}|{cookie}</title>"))
    };
    let routes = Router::new().route("/echo", get(echo)).route(
        "/login",
        get(|| async {
            let cookie = (header::SET_COOKIE, "session=secret; Path=/");
            ([cookie], Redirect::to("/echo")).into_response()
        }),
    );
    let site = Site::spawn("127.0.0.2", routes).await;
    let names = Arc::new(Names::default());
    let client = client(&names, &["127.0.0.2/32"]);
    let (card, _) = fetch_card(&client, &site.url("/login")).await.unwrap();
    assert_eq!(card.title, format!("{USER_AGENT}|"));
    assert!(USER_AGENT.starts_with("Hearth/") && USER_AGENT.ends_with(" (link preview)"));
}

/// A push as a push service gets it: a POST with an encrypted body and its headers.
fn push_request(target: &str) -> http::Request<Vec<u8>> {
    http::Request::post(target)
        .header("TTL", "60")
        .header(header::CONTENT_ENCODING, "aes128gcm")
        .body(vec![0xa5; 300])
        .unwrap()
}

/// A push service that answers 201 with what it got: method, TTL, encoding and body length.
fn push_service() -> Router {
    let take = |method: axum::http::Method, headers: HeaderMap, body: Bytes| async move {
        let value = |name| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        let ttl = value("ttl").unwrap_or_default();
        let encoding = value("content-encoding").unwrap_or_default();
        let said = format!("{method} {ttl} {encoding} {}", body.len());
        (StatusCode::CREATED, said)
    };
    Router::new().route("/push/{id}", post(take))
}

#[tokio::test]
async fn a_post_to_a_private_address_is_refused_before_it_leaves() {
    let site = Site::spawn("127.0.0.1", push_service()).await;
    let port = site.port();
    let names = Arc::new(Names::default().with("push.test", &["127.0.0.1"]));
    let client = client(&names, &[]);
    for (target, refused) in [
        (format!("http://push.test:{port}/push/1"), "127.0.0.1"),
        (format!("http://127.0.0.1:{port}/push/1"), "127.0.0.1"),
        (format!("https://[::1]:{port}/push/1"), "::1"),
        (
            "http://169.254.169.254/push/1".to_owned(),
            "169.254.169.254",
        ),
    ] {
        let err = client.post(push_request(&target), 1024).await.unwrap_err();
        assert_eq!(err, blocked(refused), "{target}");
    }
    let err = client.post(push_request("ftp://push.test/x"), 1024).await;
    assert_eq!(err.unwrap_err(), FetchError::Scheme("ftp".into()));
    assert_eq!(site.hits(), 0, "no request reached the server");
    assert_eq!(names.lookups(), 1);
}

#[tokio::test]
async fn an_allowed_push_service_gets_the_post_as_built() {
    let site = Site::spawn("127.0.0.2", push_service()).await;
    let names = Arc::new(Names::default().with("push.intranet", &["127.0.0.2"]));
    let allowed = client(&names, &["127.0.0.2/32"]);
    for target in [
        format!("http://push.intranet:{}/push/1", site.port()),
        format!("http://127.0.0.2:{}/push/1", site.port()),
    ] {
        let answer = allowed.post(push_request(&target), 1024).await.unwrap();
        assert_eq!(answer.status, 201, "{target}");
        assert_eq!(answer.body, b"POST 60 aes128gcm 300", "{target}");
        assert_eq!(answer.retry_after, None);
    }
    let target = site.url("/push/1");
    let answer = allowed
        .post(push_request(target.as_str()), 4)
        .await
        .unwrap();
    assert_eq!(answer.body, b"POST", "the body is cut at the limit");
    assert_eq!(site.hits(), 3);

    let other = client(&names, &["127.0.0.3/32"]);
    let err = other.post(push_request(target.as_str()), 1024).await;
    assert_eq!(err.unwrap_err(), blocked("127.0.0.2"));
    assert_eq!(site.hits(), 3);
}

#[tokio::test]
async fn a_push_service_that_hangs_is_given_up_on_at_the_time_limit() {
    let hang = || async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        StatusCode::CREATED
    };
    let site = Site::spawn("127.0.0.2", Router::new().route("/push/{id}", post(hang))).await;
    let policy = Policy {
        allow: parse_networks(&["127.0.0.2"]).unwrap(),
        timeout: Duration::from_millis(500),
        ..Policy::default()
    };
    let client = Client::with_resolver(policy, Arc::new(Names::default())).unwrap();
    let started = Instant::now();
    let target = site.url("/push/1");
    let err = client.post(push_request(target.as_str()), 1024).await;
    let took = started.elapsed();
    assert_eq!(err.unwrap_err(), FetchError::TimedOut);
    assert!(took >= Duration::from_millis(450), "gave up after {took:?}");
    assert!(took < Duration::from_secs(2), "gave up after {took:?}");
    assert_eq!(site.hits(), 1);
}

#[tokio::test]
async fn a_push_answer_brings_its_status_and_retry_after_and_is_not_redirected() {
    let in_two_minutes = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    let answer = move |Path(case): Path<String>| {
        let in_two_minutes = in_two_minutes.clone();
        async move {
            let wait = |value: String| [(header::RETRY_AFTER, value)];
            match case.as_str() {
                "busy" => (StatusCode::TOO_MANY_REQUESTS, wait("120".into())).into_response(),
                "later" => (StatusCode::SERVICE_UNAVAILABLE, wait(in_two_minutes)).into_response(),
                "past" => {
                    let past = "Sun, 06 Nov 1994 08:49:37 GMT".to_owned();
                    (StatusCode::TOO_MANY_REQUESTS, wait(past)).into_response()
                }
                "nonsense" => (StatusCode::TOO_MANY_REQUESTS, wait("soon".into())).into_response(),
                "gone" => (StatusCode::GONE, "subscription expired").into_response(),
                "moved" => Redirect::permanent("/push/elsewhere").into_response(),
                _ => StatusCode::CREATED.into_response(),
            }
        }
    };
    let site = Site::spawn(
        "127.0.0.2",
        Router::new().route("/push/{case}", post(answer)),
    )
    .await;
    let names = Arc::new(Names::default());
    let client = client(&names, &["127.0.0.2/32"]);
    let post = |case: &str| {
        let target = site.url(&format!("/push/{case}"));
        client.post(push_request(target.as_str()), 1024)
    };

    let busy = post("busy").await.unwrap();
    assert_eq!(busy.status, 429);
    assert_eq!(busy.retry_after, Some(Duration::from_secs(120)));
    let later = post("later").await.unwrap();
    assert_eq!(later.status, 503);
    let wait = later.retry_after.unwrap();
    assert!(
        wait > Duration::from_secs(110) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );
    assert_eq!(
        post("past").await.unwrap().retry_after,
        Some(Duration::ZERO)
    );
    assert_eq!(post("nonsense").await.unwrap().retry_after, None);
    let gone = post("gone").await.unwrap();
    assert_eq!((gone.status, gone.retry_after), (410, None));
    assert_eq!(gone.body, b"subscription expired");

    let moved = post("moved").await.unwrap();
    assert_eq!(moved.status, 308);
    assert_eq!(site.hits(), 6, "the redirect was not followed");
}

/// Set in the environment of the copy of this test binary that [`proxy_child`] runs in.
const PROXY_TARGET: &str = "HEARTH_NET_TEST_PROXY_TARGET";

/// Environment variables are shared by the whole process, so the fetch under proxy settings
/// runs in a copy of this binary started with them, while this test watches both ends.
#[tokio::test]
async fn proxy_settings_in_the_environment_are_ignored() {
    let site = Site::spawn("127.0.0.1", pages(Router::new())).await;
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let proxied = Arc::new(AtomicUsize::new(0));
    let counter = proxied.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = proxy.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap());
    child
        .args(["proxy_child", "--exact", "--ignored", "--nocapture"])
        .env(PROXY_TARGET, format!("http://site.test:{}/", site.port()))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("REQUEST_METHOD");
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
        child.env(var, &proxy_url);
    }
    child
        .env("ALL_PROXY", &proxy_url)
        .env("all_proxy", &proxy_url);
    let out = child.output().await.unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("1 passed"), "the child ran its test: {said}");
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        0,
        "nothing went to the proxy"
    );
    assert_eq!(site.hits(), 1, "the page was fetched directly");
}

/// The fetch [`proxy_settings_in_the_environment_are_ignored`] runs under proxy settings.
#[tokio::test]
#[ignore = "run by proxy_settings_in_the_environment_are_ignored"]
async fn proxy_child() {
    let Ok(target) = std::env::var(PROXY_TARGET) else {
        return;
    };
    let names = Arc::new(Names::default().with("site.test", &["127.0.0.1"]));
    let client = client(&names, &["127.0.0.1/32"]);
    let page = client.get(&url(&target), &Want::html()).await.unwrap();
    assert_eq!(page.body, PAGE.as_bytes());
}
