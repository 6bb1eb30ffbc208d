//! Views: a conversation's outgoing webhooks with the form that makes one, and one hook with
//! its secret, its actions and its delivery log.

use maud::{Markup, html};

use crate::domain::chat::Conversation;
use crate::store::outgoing::{Delivery, Hook, Outcome, Trigger};
use crate::web::pages::{Shell, csrf_field, layout, stamp};

pub struct ListView<'a> {
    pub csrf: &'a str,
    pub conversation: &'a Conversation,
    pub hooks: &'a [Hook],
    pub error: Option<&'a str>,
}

pub struct HookView<'a> {
    pub csrf: &'a str,
    pub conversation: &'a Conversation,
    pub hook: &'a Hook,
    /// The newest attempts, newest first.
    pub log: &'a [Delivery],
}

fn trigger_words(hook: &Hook) -> String {
    match hook.trigger {
        Trigger::All => "every message".into(),
        Trigger::Mention => format!("messages that mention @{}", hook.bot.username),
        Trigger::Word => format!("messages that start with {}", hook.words.join(", ")),
    }
}

fn state(hook: &Hook) -> &'static str {
    if hook.revoked_at.is_some() {
        "revoked"
    } else {
        "working"
    }
}

/// GET /c/{id}/outgoing
pub fn list(shell: Shell, view: &ListView) -> Markup {
    let c = view.conversation;
    let base = format!("/c/{}/outgoing", c.id);
    layout(
        shell,
        &format!("Outgoing webhooks · {}", c.name),
        html! {
            section.page-section aria-labelledby="outgoing-title" {
                header.page-head {
                    p { a href={ "/c/" (c.id) "/settings" } { "← Settings of " (c.name) } }
                    h1 #outgoing-title { "Outgoing webhooks" }
                    p.lead { "Each new message of " (c.name) " that fires a hook is POSTed, signed, to its URL; "
                        "what the receiver answers is posted as a reply from the hook's bot. "
                        "Messages of bots never fire a hook." }
                }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                section.card.wide aria-labelledby="hooks-title" {
                    h2 #hooks-title { "Hooks" }
                    @if view.hooks.is_empty() {
                        p.hint { "None yet." }
                    } @else {
                        table.hooks {
                            thead { tr { th { "Name" } th { "URL" } th { "Sends" } th { "Made" } th { "State" } } }
                            tbody {
                                @for h in view.hooks {
                                    tr {
                                        td { a href={ (base) "/" (h.id) } { (h.name) } }
                                        td { code { (h.url) } }
                                        td { (trigger_words(h)) }
                                        td { (stamp(h.created_at)) }
                                        td { (state(h)) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !c.archived {
                    (new_form(view.csrf, &base))
                }
            }
        },
    )
}

fn new_form(csrf: &str, base: &str) -> Markup {
    html! {
        section.card.wide aria-labelledby="new-hook-title" {
            h2 #new-hook-title { "Add a hook" }
            form method="post" action=(base) {
                (csrf_field(csrf))
                p {
                    label for="hook-name" { "Name" }
                    input #hook-name name="name" required maxlength="64" placeholder="Deploy bot" aria-describedby="hook-name-hint";
                    span.hint #hook-name-hint { "Its bot, which posts the answers, is named after it and joins the conversation." }
                }
                p {
                    label for="hook-url" { "URL" }
                    input #hook-url name="url" type="url" required maxlength="2000" placeholder="https://example.org/hearth";
                }
                p {
                    label for="hook-trigger" { "Send" }
                    select #hook-trigger name="trigger" {
                        option value="all" { "every message" }
                        option value="mention" { "messages that mention the bot" }
                        option value="word" { "messages that start with a trigger word" }
                    }
                }
                p {
                    label for="hook-words" { "Trigger words" }
                    input #hook-words name="words" maxlength="400" placeholder="!deploy, !status" aria-describedby="hook-words-hint";
                    span.hint #hook-words-hint { "For trigger words only: up to 10, separated by commas or spaces, in any letter case." }
                }
                p {
                    label {
                        input type="checkbox" name="allow_private" value="on" aria-describedby="allow-private-warning";
                        " Allow private targets"
                    }
                }
                p.hint.warning #allow-private-warning {
                    "Only for a receiver on your own network: this hook may then reach private and local "
                    "addresses (this server itself, its network, cloud metadata services), which every other "
                    "request Hearth makes refuses."
                }
                button type="submit" { "Add hook" }
            }
        }
    }
}

/// GET /c/{id}/outgoing/{hook}
pub fn hook(shell: Shell, view: &HookView) -> Markup {
    let (c, h) = (view.conversation, view.hook);
    let base = format!("/c/{}/outgoing/{}", c.id, h.id);
    layout(
        shell,
        &format!("{} · Outgoing webhooks", h.name),
        html! {
            section.page-section aria-labelledby="hook-title" {
                header.page-head {
                    p { a href={ "/c/" (c.id) "/outgoing" } { "← Outgoing webhooks of " (c.name) } }
                    h1 #hook-title { (h.name) span.hint { " · " (state(h)) } }
                }
                section.card.wide aria-labelledby="hook-details-title" {
                    h2 #hook-details-title { "Details" }
                    dl {
                        dt { "URL" } dd { code { (h.url) } }
                        dt { "Sends" } dd { (trigger_words(h)) }
                        dt { "Bot" } dd { "@" (h.bot.username) }
                        dt { "Private targets" } dd { (if h.allow_private { "allowed" } else { "refused" }) }
                        dt { "Made" } dd { (stamp(h.created_at)) }
                        @if let Some(at) = h.revoked_at { dt { "Revoked" } dd { (stamp(at)) } }
                    }
                }
                @if h.revoked_at.is_none() {
                    section.card.wide aria-labelledby="secret-title" {
                        h2 #secret-title { "Secret" }
                        p { "Set it on the receiver: each request carries "
                            code { "X-Hearth-Signature: t=…,v1=…" }
                            ", the HMAC-SHA256 of the time and the body with this secret." }
                        p { input #hook-secret.copy-field type="text" readonly value=(h.secret) aria-label="The hook's secret"; }
                        form.inline method="post" action={ (base) "/rotate" } {
                            (csrf_field(view.csrf))
                            button.quiet type="submit" { "Make a new secret" }
                            span.hint { " The old one stops at once." }
                        }
                    }
                    section.card.wide aria-labelledby="revoke-title" {
                        h2 #revoke-title { "Revoke" }
                        p.hint { "Nothing more is sent. Its bot @" (h.bot.username)
                            " is removed from the conversation and deactivated; what it posted stays." }
                        form method="post" action={ (base) "/revoke" } {
                            (csrf_field(view.csrf))
                            button.danger type="submit" { "Revoke " (h.name) }
                        }
                    }
                }
                (log(c.id, view.log))
            }
        },
    )
}

fn outcome_words(o: Outcome) -> &'static str {
    match o {
        Outcome::Delivered => "delivered",
        Outcome::Replied => "delivered, answer posted",
        Outcome::Retrying => "failed, will retry",
        Outcome::Failed => "failed",
    }
}

fn log(conversation: i64, log: &[Delivery]) -> Markup {
    html! {
        section.card.wide aria-labelledby="log-title" {
            h2 #log-title { "Deliveries" }
            p.hint { "The newest " (crate::chat::outgoing::LOG_SHOWN) " attempts, newest first." }
            @if log.is_empty() {
                p.hint { "Nothing sent yet." }
            } @else {
                table.deliveries {
                    thead { tr { th { "Time" } th { "Message" } th { "Attempt" } th { "Status" } th { "Outcome" } th { "Error" } th { "Took" } } }
                    tbody {
                        @for d in log {
                            tr {
                                td { (stamp(d.at)) }
                                td { a href={ "/c/" (conversation) "?at=" (d.message_id) "#m-" (d.message_id) } { (d.message_id) } }
                                td { (d.attempt) }
                                td { @match d.status { Some(s) => (s), None => "—" } }
                                td { (outcome_words(d.outcome)) }
                                td { (d.error) }
                                td { (d.duration_ms) " ms" }
                            }
                        }
                    }
                }
            }
        }
    }
}
