//! Memory the server gives back: glibc keeps a large buffer freed by one thread (a decoded
//! photo, an upload's write buffer) in that thread's arena for reuse, so twenty uploads at
//! once leave the server holding well over a hundred megabytes it no longer uses. A fixed
//! `mmap` threshold makes every allocation of 128 KiB or more its own mapping, returned to the
//! system when freed. `hearth serve` starts itself again with it set, unless the operator set
//! it (or any other value) already.

/// The variable glibc reads at start, and the threshold Hearth chooses.
pub const VARIABLE: &str = "MALLOC_MMAP_THRESHOLD_";
pub const THRESHOLD: &str = "131072";

/// Replaces this process with itself, the threshold set; returns only when that cannot be
/// done (not Linux with glibc, the variable already set, or `exec` failed), to go on as is.
pub fn give_back_freed_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(VARIABLE).is_some() {
            return;
        }
        let Ok(me) = std::env::current_exe() else {
            return;
        };
        let err = std::process::Command::new(me)
            .args(std::env::args_os().skip(1))
            .env(VARIABLE, THRESHOLD)
            .exec();
        tracing::warn!(error = %err, "could not restart with {VARIABLE} set; large buffers stay in the allocator's arenas");
    }
}
