//! Batches of independent work shared out among the machine's cores (render and write are
//! both "many small independent files"). Standard library threads: no pool to set up.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Run `work` over `items` in batches of `size`, on up to as many threads as there are cores;
/// each thread keeps its own `S` across the batches it takes. Results come back in batch order,
/// so the caller's output does not depend on scheduling.
pub fn batches<T, S, R>(items: &[T], size: usize, work: impl Fn(&[T], &mut S) -> R + Sync) -> Vec<R>
where
    T: Sync,
    S: Default,
    R: Send,
{
    let chunks: Vec<&[T]> = items.chunks(size.max(1)).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(chunks.len());
    if threads <= 1 {
        let mut state = S::default();
        return chunks.iter().map(|c| work(c, &mut state)).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut state = S::default();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = chunks.get(i) else { break };
                        mine.push((i, work(chunk, &mut state)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut slots: Vec<Option<R>> = (0..chunks.len()).map(|_| None).collect();
    for (i, r) in done.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_back_in_order_whatever_the_scheduling() {
        let items: Vec<u32> = (0..10_000).collect();
        let sums = super::batches(&items, 7, |c: &[u32], seen: &mut usize| {
            *seen += c.len();
            c.to_vec()
        });
        let flat: Vec<u32> = sums.into_iter().flatten().collect();
        assert_eq!(flat, items);
    }

    #[test]
    fn empty_input_gives_no_batches() {
        let r = super::batches(&[] as &[u8], 4, |c: &[u8], _: &mut ()| c.len());
        assert!(r.is_empty());
    }
}
