//! Views: the bell in a conversation's header and the notifications settings page.

use maud::{Markup, html};

use super::QUIET_CHOICES;
use crate::domain::chat::{ConversationId, Summary};
use crate::domain::notify::{Level, Setting};
use crate::web::pages::sidebar::title;
use crate::web::pages::{Shell, csrf_field, layout, stamp};

const LEVELS: [Level; 3] = [Level::All, Level::Mentions, Level::None];

/// What the bell shows: a struck bell when nothing but mentions (or nothing) can notify.
fn bell(setting: Setting) -> (&'static str, &'static str) {
    match setting {
        Setting { muted: true, .. } => ("🔕", "Muted"),
        Setting {
            level: Level::None, ..
        } => ("🔕", "Off"),
        Setting {
            level: Level::Mentions,
            ..
        } => ("🔔", "Mentions"),
        Setting {
            level: Level::All, ..
        } => ("🔔", "All"),
    }
}

/// The form that sets a conversation's level and mute; `back` says where it returns to.
pub fn level_form(id: ConversationId, setting: Setting, csrf: &str, back: &str) -> Markup {
    html! {
        form.notify-form method="post" action={ "/c/" (id) "/notify" } {
            (csrf_field(csrf))
            input type="hidden" name="back" value=(back);
            fieldset {
                legend { "Notify me of" }
                @for level in LEVELS {
                    label.choice {
                        input type="radio" name="level" value=(level.as_str()) checked[setting.level == level];
                        " " (level.label())
                    }
                }
            }
            label.choice {
                input type="checkbox" name="muted" value="1" checked[setting.muted];
                " Mute: no unread badge unless I am mentioned"
            }
            button.small type="submit" { "Save" }
        }
    }
}

/// The bell in a conversation's header: a menu holding the level form (works without script).
pub fn bell_menu(id: ConversationId, setting: Setting, csrf: &str) -> Markup {
    let (icon, word) = bell(setting);
    html! {
        details.notify-menu.menu {
            summary.button.quiet.small aria-label={ "Notifications: " (word) } title={ "Notifications: " (word) } {
                span aria-hidden="true" { (icon) } span.label { " " (word) }
            }
            div.menu-panel { (level_form(id, setting, csrf, "conversation")) }
        }
    }
}

/// Everything the settings page shows.
pub struct SettingsView<'a> {
    pub csrf: &'a str,
    pub quiet_until: Option<i64>,
    pub summaries: &'a [Summary],
    /// Whether this server can push (it has a push subject).
    pub push: bool,
    /// The person's devices that receive pushes.
    pub devices: &'a [crate::store::push::Device],
}

pub fn settings(shell: Shell, view: &SettingsView) -> Markup {
    layout(
        shell,
        "Notifications",
        html! {
            section.page-section aria-labelledby="notify-title" {
                header.page-head {
                    p { a href="/account" { "← Your account" } }
                    h1 #notify-title { "Notifications" }
                    p.lead { "Choose what reaches you, and where." }
                }
                (this_device(view))
                (devices(view))
                (quiet(view))
                (conversations(view))
            }
        },
    )
}

/// Notifications on the device the page is open on: the page script fills it in.
fn this_device(view: &SettingsView) -> Markup {
    html! {
        section.card.wide #this-device aria-labelledby="device-title" data-push=[view.push.then_some("on")] {
            h2 #device-title { "On this device" }
            p.hint #device-state { "Notifications on this device need JavaScript." }
            p {
                button #notify-enable type="button" hidden { "Turn on notifications" }
                " "
                button.quiet #notify-test type="button" hidden { "Send a test notification" }
            }
            p {
                label.choice {
                    input #notify-sound type="checkbox" disabled;
                    " Play a sound for mentions and direct messages"
                }
            }
        }
    }
}

fn devices(view: &SettingsView) -> Markup {
    html! {
        section.card.wide aria-labelledby="devices-title" {
            h2 #devices-title { "Devices that get pushes" }
            @if !view.push {
                p.hint { "This server does not send pushes: its operator has not set push_subject (or an https base_url)." }
            } @else if view.devices.is_empty() {
                p.hint { "None yet. Turn on notifications on a device to have its pushes arrive while Hearth is closed." }
            } @else {
                p.hint { "When none of your pages has been in view for a minute, what notifies you is pushed to these." }
                ul.device-list {
                    @for d in view.devices {
                        li {
                            span.device-name { (if d.label.is_empty() { "A browser" } else { &d.label }) }
                            " · added " (stamp(d.created_at))
                            @if let Some(t) = d.last_sent_at { " · last push " (stamp(t)) }
                            @if !d.last_error.is_empty() { " · " span.error { (d.last_error) } }
                            form.inline method="post" action={ "/account/notifications/devices/" (d.id) "/remove" } {
                                (csrf_field(view.csrf))
                                button.small.quiet type="submit" aria-label={ "Remove " (d.label) } { "Remove" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn quiet(view: &SettingsView) -> Markup {
    html! {
        section.card.wide aria-labelledby="quiet-title" {
            h2 #quiet-title { "Do not disturb" }
            @if let Some(until) = view.quiet_until {
                p role="status" { "Nothing notifies you until " (stamp(until)) "." }
                form method="post" action="/account/notifications/quiet" {
                    (csrf_field(view.csrf))
                    input type="hidden" name="minutes" value="0";
                    button.quiet type="submit" { "Turn off do not disturb" }
                }
            } @else {
                p.hint { "Pause every notification for a while; messages still arrive." }
            }
            form.inline method="post" action="/account/notifications/quiet" {
                (csrf_field(view.csrf))
                label for="quiet-minutes" { "Pause for" }
                select #quiet-minutes name="minutes" {
                    @for (minutes, words) in QUIET_CHOICES {
                        option value=(minutes) { (words) }
                    }
                }
                button type="submit" { "Pause notifications" }
            }
        }
    }
}

fn conversations(view: &SettingsView) -> Markup {
    html! {
        section.card.wide aria-labelledby="levels-title" {
            h2 #levels-title { "Conversations" }
            p.hint { "Direct messages and groups tell you of every message, channels of mentions, until you choose otherwise." }
            @if view.summaries.is_empty() {
                p { "You are in no conversations yet." }
            }
            ul.notify-levels {
                @for s in view.summaries {
                    li {
                        h3 { a href={ "/c/" (s.conversation.id) } { (title(s)) } }
                        (level_form(s.conversation.id, s.notify, view.csrf, "settings"))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bell_says_what_reaches_you() {
        let s = |level, muted| Setting { level, muted };
        assert_eq!(bell(s(Level::All, false)), ("🔔", "All"));
        assert_eq!(bell(s(Level::Mentions, false)), ("🔔", "Mentions"));
        assert_eq!(bell(s(Level::None, false)), ("🔕", "Off"));
        assert_eq!(bell(s(Level::All, true)), ("🔕", "Muted"));
    }

    #[test]
    fn the_form_checks_the_current_level() {
        let html = level_form(
            7,
            Setting {
                level: Level::Mentions,
                muted: true,
            },
            "t",
            "settings",
        )
        .into_string();
        assert!(html.contains(r#"action="/c/7/notify""#), "{html}");
        assert!(html.contains(r#"value="mentions" checked"#), "{html}");
        assert!(!html.contains(r#"value="all" checked"#), "{html}");
        assert!(html.contains(r#"name="muted" value="1" checked"#), "{html}");
    }
}
