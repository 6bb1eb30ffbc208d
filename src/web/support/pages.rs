//! Views of the support inbox: writing to the admins, the admins' inbox, and the panel beside
//! a support conversation with its state, assignee and internal notes (admins alone).

use maud::{Markup, html};

use crate::domain::User;
use crate::domain::chat::{ConversationId, UserRef};
use crate::domain::support::{Filter, InboxEntry, Note, State, Thread};
use crate::fragments;
use crate::web::pages::{Nav, Shell, app_layout, csrf_field};

/// GET /support without a support conversation yet: a composer that starts one.
pub fn compose(
    shell: Shell,
    nav: &Nav,
    team: &str,
    csrf: &str,
    client_id: &str,
    max_chars: usize,
) -> Markup {
    app_layout(
        shell,
        &format!("Contact the {team}"),
        nav,
        None,
        html! {
            section.page-section aria-labelledby="support-title" {
                header.page-head {
                    h1 #support-title { "Contact the " (team) }
                    p.lead { "Write to the admins of this Hearth. Only you and the admins see this conversation." }
                }
                form.card.wide method="post" action="/support" {
                    (csrf_field(csrf))
                    input type="hidden" name="client_id" value=(client_id);
                    label for="support-body" { "Your message" }
                    textarea #support-body name="body" rows="5" maxlength=(max_chars) required data-autofocus {}
                    button type="submit" { "Send to the " (team) }
                }
            }
        },
    )
}

fn state_tag(state: State) -> Markup {
    html! { span.tag.state data-state=(state.as_str()) { (state.as_str()) } }
}

fn filter_link(current: Filter, filter: Filter, label: &str) -> Markup {
    let href = match filter {
        Filter::All => "/inbox".to_owned(),
        f => format!("/inbox?show={}", f.as_str()),
    };
    html! {
        li { a href=(href) aria-current=[(current == filter).then_some("page")] { (label) } }
    }
}

/// GET /inbox: every member's support conversation, newest activity first.
pub fn inbox(shell: Shell, nav: &Nav, entries: &[InboxEntry], filter: Filter) -> Markup {
    app_layout(
        shell,
        "Inbox",
        nav,
        None,
        html! {
            section.page-section.inbox aria-labelledby="inbox-title" {
                header.page-head {
                    h1 #inbox-title { "Inbox" }
                    p.lead { "Members' support conversations, newest first." }
                }
                nav.inbox-filters aria-label="Show" {
                    ul {
                        (filter_link(filter, Filter::All, "All"))
                        (filter_link(filter, Filter::Open, "Open"))
                        (filter_link(filter, Filter::Resolved, "Resolved"))
                        (filter_link(filter, Filter::Mine, "Assigned to me"))
                    }
                }
                (inbox_list(entries))
            }
        },
    )
}

/// The list itself (the inbox script swaps in a fresh copy when a thread changes).
pub fn inbox_list(entries: &[InboxEntry]) -> Markup {
    html! {
        div #inbox-list aria-live="polite" {
            @if entries.is_empty() {
                p.hint { "No support conversations here." }
            } @else {
                ul.inbox-list {
                    @for e in entries { (inbox_row(e)) }
                }
            }
        }
    }
}

fn inbox_row(e: &InboxEntry) -> Markup {
    let t = &e.thread;
    html! {
        li.inbox-row.unread[e.unread > 0] data-conversation-id=(t.conversation_id) data-state=(t.state.as_str()) {
            a.inbox-link-row href={ "/c/" (t.conversation_id) } {
                span.inbox-who {
                    (fragments::avatar(t.member.id, &t.member.display_name, t.member.avatar.as_deref()))
                    strong.inbox-name { (t.member.display_name) }
                    " " span.hint { "@" (t.member.username) }
                }
                span.inbox-meta {
                    (state_tag(t.state))
                    @if let Some(a) = &t.assignee { " " span.tag.assignee { "Assigned to " (a.display_name) } }
                    @if e.unread > 0 {
                        " " span.badge.unread-badge { span.n { (e.unread) } span.visually-hidden { " unread" } }
                    }
                }
                @if let Some(m) = &e.last_message {
                    span.inbox-last {
                        strong { (m.sender.display_name) ": " } (m.excerpt)
                        " " time datetime=(fragments::iso(m.created_at)) data-ms=(m.created_at) { (fragments::clock(m.created_at)) " UTC" }
                    }
                }
            }
        }
    }
}

/// What the panel beside a support conversation shows an admin.
pub struct PanelView<'a> {
    pub conversation: ConversationId,
    pub thread: &'a Thread,
    pub notes: &'a [Note],
    pub team: &'a [UserRef],
    pub me: &'a User,
    pub csrf: &'a str,
    pub max_chars: usize,
}

/// The admins' tools in a support conversation: state, assignee and internal notes.
pub fn panel(view: &PanelView) -> Markup {
    let t = view.thread;
    let id = view.conversation;
    let action = format!("/c/{id}/support");
    let assigned = t.assignee.as_ref().map(|a| a.id);
    html! {
        aside #support-panel.support-panel aria-labelledby="support-panel-title" data-conversation-id=(id) {
            h2 #support-panel-title { "Support " (state_tag(t.state)) }
            div.support-tools {
                form.inline method="post" action=(action) {
                    (csrf_field(view.csrf))
                    @match t.state {
                        State::Open => {
                            input type="hidden" name="state" value="resolved";
                            button.small type="submit" { "Mark resolved" }
                        }
                        State::Resolved => {
                            input type="hidden" name="state" value="open";
                            button.small type="submit" { "Reopen" }
                        }
                    }
                }
                form.inline.assign-form method="post" action=(action) {
                    (csrf_field(view.csrf))
                    label for="assignee" { "Assigned to" }
                    select #assignee name="assignee" {
                        option value="" selected[assigned.is_none()] { "Nobody" }
                        @for a in view.team {
                            option value=(a.id) selected[assigned == Some(a.id)] {
                                (a.display_name) @if a.id == view.me.id { " (you)" }
                            }
                        }
                    }
                    button.small type="submit" { "Assign" }
                }
            }
            details.notes-box open[!view.notes.is_empty()] {
                summary { "Internal notes (" span.note-count { (view.notes.len()) } ")" }
                p.hint { "Only admins see notes; " (t.member.display_name) " never does." }
                div #notes.notes {
                    @for n in view.notes { (fragments::note(n)) }
                }
                form.note-form method="post" action={ "/c/" (id) "/notes" } {
                    (csrf_field(view.csrf))
                    label for="note-body" { "New note" }
                    textarea #note-body name="body" rows="2" maxlength=(view.max_chars) required {}
                    button.small type="submit" { "Add note" }
                }
            }
        }
    }
}
