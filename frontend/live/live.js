// Live updates for the browse page and ticket pages, with JavaScript on. It listens to
// /api/tickets/stream (public ticket changes, one `ticket` event each) and changes only what the
// pages mark for it, so hydration and later re-rendering never meet its work:
// - a card on the browse page (`[data-ticket-id]` inside `.ticket-grid`) is hidden as soon as
//   its ticket is reserved, sold or taken down, shown again if it is released, and shows a new
//   price; listings that are new or back on sale are announced with a link to see them;
// - a ticket page (`.ticket-details[data-ticket-id]`) shows the new status and hides or shows
//   its Buy form; a new price asks the visitor to look again (the Buy form carries the price
//   the page showed, so nobody buys at a price they did not see).
// - an event page's section (`.section-row[data-section-id]`) shows how many seats are left
//   (`availability` events) and hides its Buy form when none are; seats back on sale are
//   announced with a link to see them.
// Announcements go to the page's `.live-slot`, a polite live region for screen readers.

const LABELS = { available: 'On sale', reserved: 'Reserved', sold: 'Sold', removed: 'No longer on sale' };

function announce(text, link) {
  const slot = document.querySelector('.live-slot');
  if (!slot) return;
  slot.replaceChildren();
  const note = document.createElement('p');
  note.className = 'notice live-note';
  note.textContent = text + ' ';
  if (link) {
    const a = document.createElement('a');
    a.href = window.location.pathname + window.location.search;
    // A full load (the router would keep the page as it is for its own address).
    a.rel = 'external';
    a.textContent = link;
    note.append(a);
  }
  slot.append(note);
}

function updateCards(ticket) {
  const cards = document.querySelectorAll('.ticket-grid [data-ticket-id]');
  let shown = false;
  for (const card of cards) {
    if (card.dataset.ticketId !== ticket.id) continue;
    shown = true;
    const item = card.closest('li') ?? card;
    item.hidden = ticket.status !== 'available';
    const price = card.querySelector('.price');
    if (price && ticket.status === 'available') price.textContent = ticket.price;
  }
  const arrived = ticket.change === 'listed' || ticket.change === 'released';
  if (!shown && arrived && ticket.status === 'available' && document.querySelector('.browse')) {
    announce('New tickets are on sale.', 'Show them');
  }
}

function updateTicketPage(ticket) {
  const page = document.querySelector(`.ticket-details[data-ticket-id="${CSS.escape(ticket.id)}"]`);
  if (!page) return;
  const status = page.querySelector('[data-testid="ticket-status"]');
  if (status && LABELS[ticket.status] && status.dataset.status !== ticket.status) {
    status.textContent = LABELS[ticket.status];
    status.className = `status status-${ticket.status}`;
    status.dataset.status = ticket.status;
    announce(`This ticket is now: ${LABELS[ticket.status].toLowerCase()}.`);
  }
  const buy = document.querySelector('.buy');
  if (buy) buy.hidden = ticket.status !== 'available';
  const shownPrice = page.querySelector('[data-testid="ticket-price"]');
  if (shownPrice && ticket.status === 'available' && shownPrice.textContent !== ticket.price) {
    announce(`The price is now ${ticket.price}.`, 'See the new price');
  }
}

function updateAvailability(change) {
  const row = document.querySelector(`.section-row[data-section-id="${CSS.escape(change.sectionId)}"]`);
  if (!row) return;
  const left = change.available;
  const text = left <= 0 ? 'Sold out' : left < 50 ? `${left} left` : '';
  const label = row.querySelector('[data-testid="availability"]');
  if (label && label.textContent !== text) label.textContent = text;
  const buy = row.querySelector('.section-buy');
  if (buy) buy.hidden = left <= 0;
  else if (left > 0) announce('Seats are back on sale.', 'Show them');
}

if ('EventSource' in window && !window.ticketingLive) {
  window.ticketingLive = new EventSource('/api/tickets/stream');
  window.ticketingLive.addEventListener('ticket', (message) => {
    let ticket;
    try {
      ticket = JSON.parse(message.data);
    } catch (_) {
      return;
    }
    updateCards(ticket);
    updateTicketPage(ticket);
  });
  window.ticketingLive.addEventListener('availability', (message) => {
    try {
      updateAvailability(JSON.parse(message.data));
    } catch (_) {
      // A message that is not JSON changes nothing.
    }
  });
}
