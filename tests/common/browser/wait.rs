//! Waiting for what a page shows: an element, a text, a path, any condition, each polled
//! every 100 ms for at most `WAIT`.

use reqwest::{Method, Url};
use std::time::Instant;

use super::{Browser, Element, POLL, WAIT};

impl Browser {
    /// Waits (up to `WAIT`) for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        let mut last_error;
        loop {
            // Errors while a page is being replaced are transient: poll on.
            match self.try_find(css).await {
                Ok(Some(element)) => return element,
                Ok(None) => last_error = None,
                Err(e) => last_error = Some(e),
            }
            if Instant::now() > deadline {
                let error = last_error.map(|e| format!(" (last error: {e})"));
                panic!(
                    "waited {WAIT:?} for {css:?}{} on {}",
                    error.unwrap_or_default(),
                    self.describe().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits (up to `WAIT`) until no element matches `css`.
    pub async fn wait_for_gone(&self, css: &str) {
        self.wait_until(&format!("{css:?} to disappear"), async || {
            !self.exists(css).await
        })
        .await;
    }

    /// Waits (up to `WAIT`) until the page's visible text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let script = "return document.body ? document.body.innerText : '';";
        self.wait_until(&format!("the text {text:?}"), async || {
            let body = self.try_execute(script, vec![]).await;
            body.is_ok_and(|b| b.as_str().is_some_and(|b| b.contains(text)))
        })
        .await;
    }

    /// Waits (up to `WAIT`) until a conversation page (`/c/{id}`) has loaded: where `/` lands
    /// when signed in.
    pub async fn wait_for_conversation(&self) {
        self.wait_for_page("a conversation page", |path| path.starts_with("/c/"))
            .await;
    }

    /// Waits (up to `WAIT`) until the URL's path is `path` and the page has loaded.
    pub async fn wait_for_path(&self, path: &str) {
        self.wait_for_page(&format!("the path {path}"), |p| p == path)
            .await;
    }

    /// Waits until the URL's path satisfies `wanted` and the document has finished loading.
    async fn wait_for_page(&self, what: &str, wanted: impl Fn(&str) -> bool) {
        self.wait_until(what, async || {
            let url = self.cmd(Method::GET, "/url", None).await;
            let url = url
                .ok()
                .and_then(|u| u.as_str().and_then(|u| Url::parse(u).ok()));
            if url.is_none_or(|u| !wanted(u.path())) {
                return false;
            }
            let state = self
                .try_execute("return document.readyState;", vec![])
                .await;
            state.is_ok_and(|s| s == "complete")
        })
        .await;
    }

    /// Polls `ready` every 100 ms until it is true; panics after `WAIT`.
    pub async fn wait_until(&self, what: &str, mut ready: impl AsyncFnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            if ready().await {
                return;
            }
            if Instant::now() > deadline {
                panic!("waited {WAIT:?} for {what} on {}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The current URL and the start of the page's text, for failure messages.
    pub(super) async fn describe(&self) -> String {
        let url = match self.cmd(Method::GET, "/url", None).await {
            Ok(url) => url.as_str().unwrap_or_default().to_owned(),
            Err(e) => format!("(URL unknown: {e})"),
        };
        let script = "return document.body ? document.body.innerText : '';";
        let text = match self.try_execute(script, vec![]).await {
            Ok(text) => text
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(600)
                .collect(),
            Err(e) => format!("(text unknown: {e})"),
        };
        format!("{url}\n--- page text ---\n{text}\n-----------------")
    }
}
