//! One message with everything one can do to it as plain forms: the page behind the "⋯"
//! link, so replying, reacting, editing and deleting all work without JavaScript.

use maud::{Markup, html};

use super::{Nav, Shell, app_layout, csrf_field};
use crate::domain::User;
use crate::domain::chat::Message;
use crate::fragments;

/// The emoji offered for reactions (the page script's picker offers the same).
pub const COMMON_EMOJI: [&str; 12] = [
    "👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "🔥", "✅", "👏", "🤔",
];

pub struct MessageView<'a> {
    pub message: &'a Message,
    pub me: &'a User,
    pub csrf: &'a str,
    pub client_id: &'a str,
    pub max_chars: usize,
    /// The conversation is archived: nothing may change.
    pub read_only: bool,
}

pub fn page(shell: Shell, nav: &Nav, view: &MessageView) -> Markup {
    let m = view.message;
    let mine = m.sender.id == view.me.id;
    let writable = !view.read_only && !m.deleted;
    app_layout(
        shell,
        "Message",
        nav,
        None,
        html! {
            section.page-section.message-page aria-labelledby="message-title" {
                header.page-head {
                    p { a href={ "/c/" (m.conversation_id) "?at=" (m.id) "#m-" (m.id) } { "← Back to the conversation" } }
                    h1 #message-title { "Message from " (m.sender.display_name) }
                }
                div.msg-preview { (fragments::message(m)) }
                @if writable {
                    section.card.wide aria-labelledby="reply-title" {
                        h2 #reply-title { "Reply" }
                        form method="post" action={ "/c/" (m.conversation_id) "/messages" } {
                            (csrf_field(view.csrf))
                            input type="hidden" name="client_id" value=(view.client_id);
                            input type="hidden" name="reply_to" value=(m.id);
                            label for="reply-body" { "Your reply" }
                            textarea #reply-body name="body" rows="3" maxlength=(view.max_chars) required {}
                            button type="submit" { "Send reply" }
                        }
                    }
                    section.card.wide aria-labelledby="react-title" {
                        h2 #react-title { "React" }
                        div.emoji-forms {
                            @for e in COMMON_EMOJI {
                                @let on = !m.reactions.iter().any(|r| r.emoji == e && r.user_ids.contains(&view.me.id));
                                form.inline method="post" action={ "/m/" (m.id) "/react" } {
                                    (csrf_field(view.csrf))
                                    input type="hidden" name="emoji" value=(e);
                                    input type="hidden" name="on" value=(on);
                                    button.emoji-button type="submit" aria-pressed=(!on)
                                        aria-label={ (if on { "React with " } else { "Remove your " }) (e) } { (e) }
                                }
                            }
                        }
                    }
                    @if mine {
                        section.card.wide aria-labelledby="edit-title" {
                            h2 #edit-title { "Edit" }
                            form method="post" action={ "/m/" (m.id) "/edit" } {
                                (csrf_field(view.csrf))
                                label for="edit-body" { "Message" }
                                textarea #edit-body name="body" rows="4" maxlength=(view.max_chars) required { (m.body) }
                                button type="submit" { "Save changes" }
                            }
                        }
                    }
                    @if mine || view.me.is_admin() {
                        section.card.wide aria-labelledby="delete-title" {
                            h2 #delete-title { "Delete" }
                            p.hint { "Everyone will see “message deleted” instead of the text." }
                            form method="post" action={ "/m/" (m.id) "/delete" } {
                                (csrf_field(view.csrf))
                                button.danger type="submit" { "Delete message" }
                            }
                        }
                    }
                } @else if view.read_only {
                    p.archived-notice { "This conversation is archived and read-only." }
                }
                @if !mine && !m.deleted && !view.me.is_admin() {
                    section #report.card.wide aria-labelledby="report-title" {
                        h2 #report-title { "Report to the admins" }
                        p.hint { "The admins see this message and your reason in your support conversation." }
                        form method="post" action={ "/m/" (m.id) "/report" } {
                            (csrf_field(view.csrf))
                            label for="report-reason" { "Reason (optional)" }
                            textarea #report-reason name="reason" rows="2"
                                maxlength=(crate::domain::support::MAX_REASON_CHARS) {}
                            button type="submit" { "Report message" }
                        }
                    }
                }
            }
        },
    )
}
