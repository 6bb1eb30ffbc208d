//! Views: a list of API tokens with the form that makes one, for a person's own tokens and,
//! on the admin pages, for a bot's.

use maud::{Markup, html};

use crate::domain::now_ms;
use crate::domain::tokens::{DEFAULT_DAYS, Scope};
use crate::store::tokens::Token;
use crate::web::pages::{Shell, csrf_field, layout, stamp};

/// Lifetimes offered by the form, as (value, words).
const LIFETIMES: [(&str, &str); 5] = [
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("365d", "1 year"),
    ("never", "Never (admins only)"),
];

/// One list of tokens and its form.
pub struct TokensView<'a> {
    pub csrf: &'a str,
    /// Where the forms post: `/account/tokens` or `/admin/bots/{name}/tokens`.
    pub base: &'a str,
    pub tokens: &'a [Token],
    /// The scopes the owner may be given.
    pub scopes: &'a [Scope],
    /// Whether "never expires" is offered (to admins).
    pub never: bool,
    /// A token just made: its name and value, shown this once.
    pub made: Option<(&'a str, &'a str)>,
    pub error: Option<&'a str>,
}

fn state(t: &Token, now: i64) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "active"
    }
}

/// The token just made, the form, and the list.
pub fn section(view: &TokensView) -> Markup {
    let now = now_ms();
    html! {
        @if let Some((name, value)) = view.made {
            section.card.wide.made role="status" aria-labelledby="made-title" {
                h2 #made-title { "Your new token “" (name) "”" }
                p { "Copy it now: it is shown only this once. Send it as "
                    code { "Authorization: Bearer …" } "." }
                p { input #made-token.copy-field type="text" readonly value=(value) aria-label="The new token"; }
            }
        }
        @if let Some(error) = view.error { p.error role="alert" { (error) } }
        section.card.wide aria-labelledby="new-token-title" {
            h2 #new-token-title { "Make a token" }
            form method="post" action=(view.base) {
                (csrf_field(view.csrf))
                p {
                    label for="token-name" { "Name" }
                    input #token-name type="text" name="name" required maxlength="64" placeholder="What it is for (CI, a script…)";
                }
                p {
                    label for="token-scope" { "Scope" }
                    select #token-scope name="scope" {
                        @for s in view.scopes {
                            option value=(s.as_str()) selected[*s == Scope::Write] { (scope_words(*s)) }
                        }
                    }
                }
                p {
                    label for="token-expires" { "Expires after" }
                    select #token-expires name="expires" aria-describedby="never-warning" {
                        @for (value, words) in LIFETIMES {
                            @if value != "never" || view.never {
                                option value=(value) selected[value == format!("{DEFAULT_DAYS}d")] { (words) }
                            }
                        }
                    }
                }
                @if view.never {
                    p.hint #never-warning { "A token that never expires works until it is revoked: keep it somewhere safe, and prefer one that expires." }
                }
                button type="submit" { "Make token" }
            }
        }
        section.card.wide aria-labelledby="tokens-title" {
            h2 #tokens-title { "Tokens" }
            @if view.tokens.is_empty() {
                p.hint { "None yet." }
            } @else {
                ul.token-list {
                    @for t in view.tokens {
                        li {
                            strong { (t.name) } " · " (t.scope.as_str()) " · " em { (state(t, now)) }
                            br;
                            span.hint {
                                "made " (stamp(t.created_at)) " · "
                                @match t.expires_at { Some(at) => { "expires " (stamp(at)) }, None => strong { "never expires" } }
                                " · "
                                @match t.last_used_at { Some(at) => { "last used " (stamp(at)) }, None => "never used" }
                            }
                            @if t.revoked_at.is_none() {
                                form.inline method="post" action={ (view.base) "/" (t.id) "/revoke" } {
                                    (csrf_field(view.csrf))
                                    button.small.quiet type="submit" aria-label={ "Revoke " (t.name) } { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn scope_words(s: Scope) -> &'static str {
    match s {
        Scope::Read => "read: read conversations and messages",
        Scope::Write => "write: also send, edit, react and join",
        Scope::Admin => "admin: also administer Hearth",
    }
}

/// GET /account/tokens
pub fn page(shell: Shell, view: &TokensView) -> Markup {
    layout(
        shell,
        "API tokens",
        html! {
            section.page-section aria-labelledby="tokens-page-title" {
                header.page-head {
                    p { a href="/account" { "← Your account" } }
                    h1 #tokens-page-title { "API tokens" }
                    p.lead { "A token lets a script or another program use Hearth's API as you, within its scope. "
                        a href="/api/v1/openapi.json" { "The API's description" } "." }
                }
                (section(view))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(revoked: Option<i64>, expires: Option<i64>) -> Token {
        Token {
            id: 3,
            user_id: 1,
            name: "ci".into(),
            scope: Scope::Read,
            created_at: 0,
            expires_at: expires,
            last_used_at: None,
            revoked_at: revoked,
        }
    }

    #[test]
    fn a_token_says_its_state() {
        assert_eq!(state(&token(None, None), 10), "active");
        assert_eq!(state(&token(None, Some(11)), 10), "active");
        assert_eq!(state(&token(None, Some(10)), 10), "expired");
        assert_eq!(state(&token(Some(5), None), 10), "revoked");
    }

    #[test]
    fn never_is_offered_only_to_admins_and_revoke_only_while_it_works() {
        let list = [token(None, None), token(Some(1), None)];
        let mut view = TokensView {
            csrf: "c",
            base: "/account/tokens",
            tokens: &list,
            scopes: &[Scope::Read, Scope::Write],
            never: false,
            made: None,
            error: None,
        };
        let html = section(&view).into_string();
        assert!(!html.contains(r#"value="never""#), "{html}");
        assert!(!html.contains("admin: also"), "{html}");
        assert_eq!(html.matches("/revoke").count(), 1, "{html}");
        assert!(html.contains(r#"value="90d" selected"#), "{html}");
        view.never = true;
        view.made = Some(("ci", "hearth_abc"));
        let html = section(&view).into_string();
        assert!(html.contains(r#"value="never""#), "{html}");
        assert!(html.contains("never-warning"), "{html}");
        assert!(html.contains(r#"value="hearth_abc""#), "{html}");
    }
}
