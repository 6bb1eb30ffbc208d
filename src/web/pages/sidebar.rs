//! The conversation list beside every signed-in page: channels, groups and directs with
//! unread and mention badges, plus the ways to find more (channel browser, people).

use maud::{Markup, html};
use std::collections::HashMap;

use crate::domain::UserId;
use crate::domain::chat::{ConversationId, Kind, Summary};
use crate::fragments::conversation_picture;
use crate::hub::Presence;

/// Who is around, for presence dots.
pub type Presences = HashMap<UserId, Presence>;

/// Which of the sidebar's own links is the page on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Conversation(ConversationId),
    Channels,
    People,
    /// The support conversation's composer, or the admins' inbox.
    Support,
    Elsewhere,
}

/// What the sidebar shows.
pub struct Nav<'a> {
    pub summaries: &'a [Summary],
    pub place: Place,
    pub presence: &'a Presences,
    /// The admin team's name, for the way to write to them.
    pub team: &'a str,
}

/// `online`, `away` or `offline`, as the stylesheet and script name them.
pub fn status(p: Option<&Presence>) -> &'static str {
    match p {
        Some(Presence::Online) => "online",
        Some(Presence::Away) => "away",
        _ => "offline",
    }
}

/// A presence dot with words for screen readers.
pub fn presence_dot(user: UserId, p: Option<&Presence>) -> Markup {
    let s = status(p);
    html! { span.presence data-user-id=(user) data-status=(s) role="img" aria-label=(s) title=(s) {} }
}

/// What to call a conversation in lists and headings.
pub fn title(s: &Summary) -> &str {
    match s.title() {
        "" => "Direct message",
        t => t,
    }
}

fn current(place: Place, here: Place) -> Option<&'static str> {
    (place == here).then_some("page")
}

/// The list beside the page; `admin` adds the inbox, anyone else gets the way to the admins;
/// `may_invite` adds the way to the invites page.
pub fn sidebar(nav: &Nav, admin: bool, may_invite: bool) -> Markup {
    // Support conversations are reached through the inbox or the team's entry, not the lists.
    let of = |kind: Kind| {
        nav.summaries
            .iter()
            .filter(move |s| s.conversation.kind == kind && s.support.is_none())
    };
    html! {
        nav #sidebar.sidebar aria-label="Conversations" {
            a.close-nav href="#main" role="button" aria-label="Close conversation list" { "×" }
            ul.nav-links {
                li { a href="/channels" aria-current=[current(nav.place, Place::Channels)] {
                    span.icon aria-hidden="true" { "#" } "Browse channels" } }
                li { a href="/channels#new-group" { span.icon aria-hidden="true" { "+" } "New group" } }
                li { a href="/people" aria-current=[current(nav.place, Place::People)] {
                    span.icon aria-hidden="true" { "@" } "People" } }
                @if may_invite {
                    li { a href="/invites" { span.icon aria-hidden="true" { "↗" } "Invite people" } }
                }
            }
            (support_entry(nav, admin))
            (section(nav, "nav-channels", "Channels", of(Kind::Channel), "Join a channel from the channel browser."))
            (section(nav, "nav-groups", "Groups", of(Kind::Group), "Private groups you are in appear here."))
            (section(nav, "nav-directs", "Direct messages", of(Kind::Direct), "Message someone from People."))
        }
    }
}

fn section<'a>(
    nav: &Nav,
    id: &str,
    heading: &str,
    items: impl Iterator<Item = &'a Summary>,
    empty: &str,
) -> Markup {
    let items: Vec<&Summary> = items.collect();
    html! {
        // Not a landmark: the page's own headings ("Channels") must not meet a twin.
        div.nav-section {
            h2 id=(id) { (heading) }
            ul.conv-list data-kind=(id) {
                @for s in &items { (entry(nav, s)) }
            }
            @if items.is_empty() { p.nav-empty { (empty) } }
        }
    }
}

/// One conversation in the list; the page script keeps its badges current.
pub fn entry(nav: &Nav, s: &Summary) -> Markup {
    let c = &s.conversation;
    let here = current(nav.place, Place::Conversation(c.id));
    // Muted: no unread count unless someone mentioned me there.
    let shown = match s.notify.muted && s.mentions == 0 {
        true => 0,
        false => s.unread,
    };
    html! {
        li {
            a.conv.unread[shown > 0].archived[c.archived] href={ "/c/" (c.id) } data-conversation-id=(c.id)
                data-kind=(c.kind.as_str()) aria-current=[here] data-unread=(s.unread)
                data-muted=[s.notify.muted.then_some("")] {
                @match (c.kind, &s.other, c.picture.as_deref()) {
                    (Kind::Direct, Some(other), _) => { (presence_dot(other.id, nav.presence.get(&other.id))) }
                    (Kind::Channel | Kind::Group, _, Some(sha256)) => { (conversation_picture(sha256)) }
                    (Kind::Group, _, None) => { span.conv-icon aria-hidden="true" { "🔒" } }
                    _ => { span.conv-icon aria-hidden="true" { "#" } }
                }
                span.conv-name { (title(s)) }
                (badges(shown, s.mentions))
            }
        }
    }
}

/// Unread and mention counts; hidden at zero so the script only changes numbers.
pub fn badges(unread: i64, mentions: i64) -> Markup {
    html! {
        span.badge.mention-badge data-mentions=(mentions) hidden[mentions == 0] {
            "@" span.n { (mentions) } span.visually-hidden { " mentions" }
        }
        span.badge.unread-badge data-unread=(unread) hidden[unread == 0] {
            span.n { (unread) } span.visually-hidden { " unread" }
        }
    }
}

/// The admins' inbox, with their unread total across support conversations; for anyone
/// else, their support conversation (or the way to start it), named by the admin team.
fn support_entry(nav: &Nav, admin: bool) -> Markup {
    let support = nav.summaries.iter().filter(|s| s.support.is_some());
    if admin {
        let unread: i64 = support.map(|s| s.unread).sum();
        let here = current(nav.place, Place::Support);
        return html! {
            ul.nav-links.support-links {
                li { a.inbox-link href="/inbox" aria-current=[here] {
                    span.icon aria-hidden="true" { "✉" } "Inbox"
                    (badges(unread, 0))
                } }
            }
        };
    }
    let mine = nav
        .summaries
        .iter()
        .find(|s| s.support.as_ref().is_some_and(|t| t.mine));
    html! {
        ul.nav-links.support-links {
            li {
                @match mine {
                    Some(s) => {
                        @let here = current(nav.place, Place::Conversation(s.conversation.id))
                            .or(current(nav.place, Place::Support));
                        a.conv.support-link.unread[s.unread > 0] href={ "/c/" (s.conversation.id) }
                            data-conversation-id=(s.conversation.id) data-kind="support" aria-current=[here] {
                            span.icon aria-hidden="true" { "?" }
                            span.conv-name { "Contact the " (nav.team) }
                            (badges(s.unread, s.mentions))
                        }
                    }
                    None => {
                        a.support-link href="/support" aria-current=[current(nav.place, Place::Support)] {
                            span.icon aria-hidden="true" { "?" } "Contact the " (nav.team)
                        }
                    }
                }
            }
        }
    }
}
