//! Who hears about a message, and how: Web Push to browsers that subscribed.

pub mod webpush;
