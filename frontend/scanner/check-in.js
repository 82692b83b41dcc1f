// The door's camera scanner, loaded by /check-in only. It fills the page's empty
// `.scanner-slot` with a "Scan with the camera" button; a code read from the camera is put in
// the code field and the form is submitted, so a scan is checked exactly like a typed code. The
// browser's BarcodeDetector reads the frames where there is one; elsewhere the QR decoder
// compiled to wasm (scanner.js) is fetched on first use. Everything it adds stays inside the
// slot, which the page renders empty, so hydration and re-rendering never meet it; when the page
// renders a new slot (after each scan), it is filled again.

async function detector() {
  if ('BarcodeDetector' in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const native = new window.BarcodeDetector({ formats: ['qr_code'] });
        return async (video) => {
          const found = await native.detect(video);
          return found.length > 0 ? found[0].rawValue : null;
        };
      }
    } catch (_) {
      // Fall through to the wasm decoder.
    }
  }
  const scanner = await import('/pkg/scanner.js');
  await scanner.default();
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    if (canvas.width === 0 || canvas.height === 0) return null;
    context.drawImage(video, 0, 0);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    return scanner.decode(frame.width, frame.height, new Uint8Array(frame.data.buffer)) ?? null;
  };
}

async function scan(slot, form, input, button, status) {
  button.disabled = true;
  status.textContent = 'Starting the camera…';
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  } catch (err) {
    status.textContent = `The camera is not available (${err.name}). Type the code instead.`;
    button.disabled = false;
    return;
  }
  const video = document.createElement('video');
  video.setAttribute('playsinline', '');
  video.muted = true;
  video.className = 'scanner-video';
  video.srcObject = stream;
  slot.prepend(video);
  await video.play();
  status.textContent = 'Point the camera at the QR code.';
  const read = await detector();
  const stop = () => {
    stream.getTracks().forEach((track) => track.stop());
    video.remove();
    button.disabled = false;
  };
  const tick = async () => {
    let code = null;
    try {
      code = await read(video);
    } catch (_) {
      code = null;
    }
    if (code) {
      stop();
      status.textContent = '';
      input.value = code;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      form.requestSubmit();
    } else if (video.isConnected) {
      setTimeout(tick, 120);
    }
  };
  tick();
}

function mount(slot) {
  const form = slot.parentElement && slot.parentElement.querySelector('form.check-in-form');
  const input = form && form.querySelector('input[name="code"]');
  if (!form || !input) return;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'secondary scan-button';
  button.textContent = 'Scan with the camera';
  const status = document.createElement('p');
  status.className = 'muted scan-status';
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  slot.append(button, status);
  button.addEventListener('click', () => scan(slot, form, input, button, status));
}

function mountAll() {
  document.querySelectorAll('.scanner-slot').forEach((slot) => {
    if (slot.childElementCount === 0) mount(slot);
  });
}

if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  mountAll();
  new MutationObserver(mountAll).observe(document.body, { childList: true, subtree: true });
}
