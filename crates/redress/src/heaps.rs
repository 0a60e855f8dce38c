//! How many heaps the C library's allocator keeps. glibc gives each thread that allocates a
//! heap of its own (an arena), up to eight per core, and keeps in each what it once held: a
//! page of memory freed in one thread's heap is not reused by another. Redress runs a thread
//! for each SQLite connection (eight readers and the writer) besides the runtime's, so every
//! thread that once ran a large search, sort or report kept that memory. At a million cases a
//! process that searched and ran every report peaked at 220–225 MiB with the default, 183–188
//! with two heaps and 134 with one, and searched and reported no slower (search p95 25 → 22 ms;
//! `redress bench --only data --data-reuse URL`, 2 cores); filing 100,000 cases was as fast
//! (3,831–3,855 against 3,859–3,896 cases/s) and peaked at 105 MiB instead of 155. The bench
//! that files a million cases and then searches and reports in the same process peaked at
//! 140–141 MiB instead of 272.
//!
//! The limit is read by glibc as the process starts (`MALLOC_ARENA_MAX`), so Redress starts
//! itself again with it set, before anything else runs: one heap for every two cores. Setting
//! `MALLOC_ARENA_MAX` (or `glibc.malloc.arena_max` in `GLIBC_TUNABLES`) yourself keeps yours.

/// The number of heaps for a machine with `cores` cores: one for every two, at least one.
pub fn heaps_for(cores: usize) -> usize {
    (cores / 2).max(1)
}

/// Whether the environment already says how many heaps to keep.
fn chosen(arena_max: Option<&std::ffi::OsStr>, tunables: Option<&std::ffi::OsStr>) -> bool {
    arena_max.is_some()
        || tunables.is_some_and(|t| t.to_string_lossy().contains("malloc.arena_max"))
}

/// Starts this program again with the heaps limited, unless the environment already limits
/// them. Returns only when it does not (or cannot) start again; the program then runs with the
/// C library's defaults.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit() {
    use std::os::unix::process::CommandExt;
    if chosen(
        std::env::var_os("MALLOC_ARENA_MAX").as_deref(),
        std::env::var_os("GLIBC_TUNABLES").as_deref(),
    ) {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut args = std::env::args_os();
    let mut again = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        again.arg0(name);
    }
    // `exec` returns only if the program could not be started again.
    let _ = again
        .args(args)
        .env("MALLOC_ARENA_MAX", heaps_for(cores).to_string())
        .exec();
}

/// Other C libraries keep their heaps their own way.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit() {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn one_heap_for_every_two_cores() {
        assert_eq!(heaps_for(0), 1);
        assert_eq!(heaps_for(1), 1);
        assert_eq!(heaps_for(2), 1);
        assert_eq!(heaps_for(3), 1);
        assert_eq!(heaps_for(8), 4);
    }

    #[test]
    fn a_limit_already_set_is_kept() {
        assert!(!chosen(None, None));
        assert!(chosen(Some(OsStr::new("4")), None));
        assert!(chosen(None, Some(OsStr::new("glibc.malloc.arena_max=2"))));
        assert!(!chosen(
            None,
            Some(OsStr::new("glibc.malloc.tcache_count=0"))
        ));
    }
}
