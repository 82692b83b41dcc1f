//! Best available (docs/RULES.md, "Orders of several seats"): which of a section's free seats
//! an order for several of them gets. Seated: the front-most row with enough adjacent free
//! seats, else seats from as few rows as can hold them. General admission: any free places, in
//! the section's own order.

/// Where a free seat is: its row's place, front to back (0 is the front), and its number in
/// the row. `None` for a place in general admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    pub row: usize,
    pub number: u32,
}

/// A free seat as the picker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeSeat<T> {
    pub id: T,
    pub place: Option<Place>,
}

/// `quantity` of `free` (given in the section's seat order), or `None` when fewer are free.
/// Seats without a place (general admission) are taken in the order given; seated ones as the
/// module says. The answer is in seat order: front row first, then by number.
pub fn best_available<T: Clone>(free: &[FreeSeat<T>], quantity: usize) -> Option<Vec<T>> {
    if quantity == 0 || free.len() < quantity {
        return None;
    }
    let mut seated: Vec<(Place, &T)> = free
        .iter()
        .filter_map(|seat| Some((seat.place?, &seat.id)))
        .collect();
    if seated.len() < free.len() {
        // General admission (or a mixture, which a section never is): the first free places.
        return Some(free.iter().take(quantity).map(|s| s.id.clone()).collect());
    }
    seated.sort_by_key(|(place, _)| *place);
    seated.dedup_by_key(|(place, _)| *place);
    let places: Vec<Place> = seated.iter().map(|(place, _)| *place).collect();
    let answer =
        |picked: Vec<usize>| Some(picked.into_iter().map(|n| seated[n].1.clone()).collect());
    let rows = runs_by_row(&places);
    // The front-most row with a run of adjacent seats long enough: the shortest such run in it
    // (a long run stays whole for a larger party), from its lowest number.
    for runs in &rows {
        if let Some(run) = runs
            .iter()
            .filter(|run| run.len() >= quantity)
            .min_by_key(|run| run.len())
        {
            return answer(run.clone().take(quantity).collect());
        }
    }
    // Otherwise as few rows as hold them: the rows with the most free seats (front first among
    // equals), each giving its longest runs first.
    let mut by_room: Vec<&Vec<Run>> = rows.iter().collect();
    by_room.sort_by_key(|runs| std::cmp::Reverse(runs.iter().map(Run::len).sum::<usize>()));
    let mut picked: Vec<usize> = Vec::with_capacity(quantity);
    for runs in by_room {
        let mut longest_first: Vec<&Run> = runs.iter().collect();
        longest_first.sort_by_key(|run| std::cmp::Reverse(run.len()));
        for run in longest_first {
            let take = run.len().min(quantity - picked.len());
            picked.extend(run.clone().take(take));
        }
        if picked.len() == quantity {
            break;
        }
    }
    // In seat order: rows front to back, each row's seats by number.
    picked.sort_unstable();
    answer(picked)
}

/// Adjacent free seats of one row, as a range of places in seat order.
type Run = std::ops::Range<usize>;

/// The free seats (their places, in seat order) grouped by row, front to back and only rows
/// with free seats, each row as its runs of adjacent numbers.
fn runs_by_row(places: &[Place]) -> Vec<Vec<Run>> {
    let mut rows: Vec<Vec<Run>> = Vec::new();
    for (n, place) in places.iter().enumerate() {
        let prev = n.checked_sub(1).map(|p| places[p]);
        match (prev, rows.last_mut()) {
            (Some(prev), Some(row)) if prev.row == place.row => match row.last_mut() {
                Some(run) if prev.number + 1 == place.number => run.end = n + 1,
                _ => row.push(n..n + 1),
            },
            _ => rows.push(std::iter::once(n..n + 1).collect()),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seat(row: usize, number: u32) -> FreeSeat<(usize, u32)> {
        FreeSeat {
            id: (row, number),
            place: Some(Place { row, number }),
        }
    }

    fn row(row: usize, numbers: &[u32]) -> Vec<FreeSeat<(usize, u32)>> {
        numbers.iter().map(|&n| seat(row, n)).collect()
    }

    #[test]
    fn picks_the_front_most_row_with_enough_adjacent_seats() {
        let mut free = row(0, &[1, 3, 5, 6]);
        free.extend(row(1, &[2, 3, 4, 9]));
        free.extend(row(2, &[1, 2, 3, 4, 5]));
        for (quantity, expected) in [
            (1, vec![(0, 1)]),
            (2, vec![(0, 5), (0, 6)]),
            (3, vec![(1, 2), (1, 3), (1, 4)]),
            (4, vec![(2, 1), (2, 2), (2, 3), (2, 4)]),
            (5, vec![(2, 1), (2, 2), (2, 3), (2, 4), (2, 5)]),
        ] {
            assert_eq!(
                best_available(&free, quantity),
                Some(expected),
                "{quantity} seats"
            );
        }
    }

    #[test]
    fn a_short_run_that_fits_is_taken_before_a_long_one() {
        let mut free = row(0, &[1, 2, 3, 4, 5, 6]);
        free.extend(row(0, &[9, 10]));
        assert_eq!(best_available(&free, 2), Some(vec![(0, 9), (0, 10)]));
    }

    #[test]
    fn without_a_run_long_enough_the_fewest_rows_are_used() {
        // Nine free seats, no row with four together: rows 1 and 2 hold four between them.
        let mut free = row(0, &[1, 3]);
        free.extend(row(1, &[1, 2, 3, 7]));
        free.extend(row(2, &[4, 5, 8]));
        let picked = best_available(&free, 4).unwrap();
        assert_eq!(picked, vec![(1, 1), (1, 2), (1, 3), (1, 7)]);
        let picked = best_available(&free, 6).unwrap();
        assert_eq!(
            picked,
            vec![(1, 1), (1, 2), (1, 3), (1, 7), (2, 4), (2, 5)],
            "two rows, the larger runs first"
        );
    }

    #[test]
    fn too_few_free_seats_or_none_asked_is_none() {
        let free = row(0, &[1, 2, 3]);
        assert_eq!(best_available(&free, 4), None);
        assert_eq!(best_available(&free, 0), None);
        assert_eq!(best_available::<(usize, u32)>(&[], 1), None);
    }

    #[test]
    fn general_admission_takes_places_in_the_order_given() {
        let free: Vec<FreeSeat<u32>> = [7, 3, 9, 1]
            .into_iter()
            .map(|id| FreeSeat { id, place: None })
            .collect();
        assert_eq!(best_available(&free, 3), Some(vec![7, 3, 9]));
    }

    fn free_seats() -> impl Strategy<Value = Vec<FreeSeat<(usize, u32)>>> {
        proptest::collection::btree_set((0usize..6, 1u32..16), 0..60)
            .prop_map(|places| places.into_iter().map(|(r, n)| seat(r, n)).collect())
    }

    proptest! {
        #[test]
        fn the_answer_is_quantity_distinct_free_seats_in_the_fewest_rows(
            free in free_seats(),
            quantity in 1usize..10,
        ) {
            let picked = best_available(&free, quantity);
            if free.len() < quantity {
                prop_assert_eq!(picked, None);
                return Ok(());
            }
            let picked = picked.expect("enough seats are free");
            prop_assert_eq!(picked.len(), quantity);
            let distinct: std::collections::BTreeSet<_> = picked.iter().copied().collect();
            prop_assert_eq!(distinct.len(), quantity, "no seat twice");
            let ids: std::collections::BTreeSet<_> = free.iter().map(|s| s.id).collect();
            prop_assert!(picked.iter().all(|p| ids.contains(p)), "only free seats");
            let mut sorted = picked.clone();
            sorted.sort();
            prop_assert_eq!(&sorted, &picked, "in seat order");

            // Rows with a run of `quantity` adjacent seats: the answer is one such run in the
            // front-most of them.
            let has_run = |r: usize| {
                let numbers: Vec<u32> = free.iter().filter(|s| s.id.0 == r).map(|s| s.id.1).collect();
                numbers.windows(quantity).any(|w| w[quantity - 1] - w[0] == quantity as u32 - 1)
            };
            if let Some(front) = (0..6).find(|&r| has_run(r)) {
                prop_assert!(picked.iter().all(|p| p.0 == front), "all in row {}", front);
                prop_assert_eq!(
                    picked[quantity - 1].1 - picked[0].1,
                    quantity as u32 - 1,
                    "adjacent"
                );
            } else {
                let mut counts: Vec<usize> = (0..6)
                    .map(|r| free.iter().filter(|s| s.id.0 == r).count())
                    .collect();
                counts.sort_unstable_by(|a, b| b.cmp(a));
                let fewest = counts
                    .iter()
                    .scan(0, |sum, c| { *sum += c; Some(*sum) })
                    .position(|sum| sum >= quantity)
                    .unwrap() + 1;
                let rows: std::collections::BTreeSet<usize> = picked.iter().map(|p| p.0).collect();
                prop_assert_eq!(rows.len(), fewest, "the fewest rows");
            }
        }
    }
}
