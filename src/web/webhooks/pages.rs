//! Views: a conversation's integrations page — its incoming webhooks, the URL of one just
//! made or rotated (shown once), and the form that makes one.

use maud::{Markup, html};

use crate::store::webhooks::Incoming;
use crate::web::pages::{Shell, csrf_field, layout, stamp};

pub struct IntegrationsView<'a> {
    pub csrf: &'a str,
    pub conversation: i64,
    pub title: &'a str,
    /// Each working hook with its bot's username.
    pub hooks: &'a [(Incoming, String)],
    /// A URL just made or rotated, with its hook's name: shown this once.
    pub made: Option<(&'a str, &'a str)>,
    pub error: Option<&'a str>,
    /// Extra sections (outgoing webhooks, for admins).
    pub more: Option<Markup>,
}

pub fn page(shell: Shell, view: &IntegrationsView) -> Markup {
    let base = format!("/c/{}/integrations", view.conversation);
    layout(
        shell,
        "Integrations",
        html! {
            section.page-section aria-labelledby="integrations-title" {
                header.page-head {
                    p { a href={ "/c/" (view.conversation) "/settings" } { "← Settings of " (view.title) } }
                    h1 #integrations-title { "Integrations" }
                    p.lead { "Let other services post here: a CI announcing builds, a form on your website, a script." }
                }
                @if let Some((name, url)) = view.made {
                    section.card.wide.made role="status" aria-labelledby="hook-url-title" {
                        h2 #hook-url-title { "The URL of “" (name) "”" }
                        p { "Copy it now: it is shown only this once. Anyone with it can post here as " (name) "." }
                        p { input #hook-url.copy-field type="text" readonly value=(url) aria-label="The webhook's URL"; }
                        p.hint { "POST JSON such as " code { r#"{"text": "Build 42 passed"}"# } " (Slack's format: "
                            code { "username" } " sets the name shown), a form with a " code { "text" } " field, or plain text. "
                            "The secret may be sent in the " code { "X-Hook-Secret" } " header to " code { "/hooks" } " instead." }
                    }
                }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                section.card.wide aria-labelledby="incoming-title" {
                    h2 #incoming-title { "Incoming webhooks" }
                    @if view.hooks.is_empty() {
                        p.hint { "None yet." }
                    } @else {
                        ul.hook-list {
                            @for (h, bot) in view.hooks {
                                li {
                                    strong { (h.name) } " " span.bot-badge { "bot" } " @" (bot)
                                    " · made " (stamp(h.created_at))
                                    " · " @match h.last_used_at { Some(at) => { "last used " (stamp(at)) }, None => "never used" }
                                    form.inline method="post" action={ (base) "/hooks/" (h.id) "/rotate" } {
                                        (csrf_field(view.csrf))
                                        button.small.quiet type="submit" aria-label={ "New URL for " (h.name) } { "New URL" }
                                    }
                                    form.inline method="post" action={ (base) "/hooks/" (h.id) "/revoke" } {
                                        (csrf_field(view.csrf))
                                        button.small.quiet type="submit" aria-label={ "Revoke " (h.name) } { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                    form method="post" action={ (base) "/hooks" } {
                        (csrf_field(view.csrf))
                        p {
                            label for="hook-name" { "Name (shown as the sender)" }
                            input #hook-name type="text" name="name" required maxlength="64" placeholder="CI, Website form…";
                        }
                        button type="submit" { "Make an incoming webhook" }
                    }
                }
                @if let Some(more) = &view.more { (more) }
            }
        },
    )
}
