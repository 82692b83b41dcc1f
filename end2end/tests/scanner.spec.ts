import { test, expect, chromium } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { PASSWORD, eventOnSale, grantStaff, uniqueEmail } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const QRCode = require('qrcode');

/** A Y4M video (what Chromium's fake camera plays) showing `text` as a QR code. */
function qrVideo(text: string, file: string): void {
  const matrix = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  const [width, height, scale] = [640, 480, 8];
  const side = (matrix.size + 8) * scale;
  const [left, top] = [Math.floor((width - side) / 2), Math.floor((height - side) / 2)];
  const luma = Buffer.alloc(width * height, 235);
  for (let my = 0; my < matrix.size; my++) {
    for (let mx = 0; mx < matrix.size; mx++) {
      if (!matrix.get(my, mx)) continue;
      for (let y = 0; y < scale; y++) {
        const row = (top + (my + 4) * scale + y) * width;
        luma.fill(16, row + left + (mx + 4) * scale, row + left + (mx + 5) * scale);
      }
    }
  }
  const chroma = Buffer.alloc((width * height) / 4, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F15:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(file, Buffer.concat([header, frame, frame, frame]));
}

test('door staff scan a ticket with the camera, and only the door page loads the scanner', async ({ javaScriptEnabled, baseURL }, testInfo) => {
  test.skip(!javaScriptEnabled, 'the camera scanner is JavaScript');
  const video = testInfo.outputPath('qr.y4m');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  try {
    // A bought ticket, through the API.
    const seller = await browser.newContext({ baseURL });
    const buyer = await browser.newContext({ baseURL });
    const title = `Scanned gig zz${Math.random().toString(36).slice(2, 10)}`;
    const sellerEmail = uniqueEmail();
    for (const [context, email] of [[seller, sellerEmail], [buyer, uniqueEmail()]] as const) {
      expect((await context.request.post('/api/users/signup', { data: { email, password: PASSWORD } })).status()).toBe(201);
    }
    const gig = await eventOnSale(seller.request, sellerEmail, title, 15);
    const order = await (await buyer.request.post('/api/orders', { data: { sectionId: gig.sectionId } })).json();
    expect((await buyer.request.post('/api/payments', { data: { orderId: order.id, token: 'tok_visa' } })).status()).toBe(201);
    const mine = await (await buyer.request.get('/api/tickets/mine')).json();
    const code = mine.bought.find((b: { ticket: { id: string } }) => b.ticket.id === order.ticket.id).code as string;
    qrVideo(code, video);

    // Door staff, whose camera shows that code.
    const door = await browser.newContext({ baseURL, permissions: ['camera'] });
    const email = uniqueEmail();
    expect((await door.request.post('/api/users/signup', { data: { email, password: PASSWORD } })).status()).toBe(201);
    grantStaff(email);
    const page = await door.newPage();
    const fetched: string[] = [];
    page.on('request', (request) => fetched.push(new URL(request.url()).pathname));

    await page.goto('/');
    await expect(page.locator('body[data-hydrated]')).toBeAttached();
    expect(fetched.filter((path) => path.includes('scanner') || path.includes('check-in.js'))).toEqual([]);

    await page.goto(`/check-in?event=${gig.eventId}`);
    await expect(page.locator('body[data-hydrated]')).toBeAttached();
    await page.getByRole('button', { name: 'Scan with the camera' }).click();
    await expect(page.getByTestId('scan-headline')).toHaveText('Valid');
    await expect(page.getByTestId('scan-result')).toContainText(title);
    const native = await page.evaluate(() => 'BarcodeDetector' in window);
    if (!native) expect(fetched).toContain('/pkg/scanner_bg.wasm');

    // The scanner is back for the next ticket; the same code now says it was used.
    await page.getByRole('button', { name: 'Scan with the camera' }).click();
    await expect(page.getByTestId('scan-headline')).toHaveText(/^Already used at \d\d:\d\d UTC$/);
  } finally {
    await browser.close();
  }
});
