"""A real SMTP server for the tests: aiosmtpd (installed by .ci/setup into target/aiosmtpd),
storing every message it accepts as <n>.eml in a folder, whole or not at all.

    python smtp_sink.py PORT FOLDER

Prints "ready" once it accepts connections.
"""

import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, folder):
        self.folder = folder
        existing = [int(name.split(".")[0]) for name in os.listdir(folder) if name.endswith(".eml")]
        self.numbers = itertools.count(max(existing, default=0) + 1)

    async def handle_DATA(self, server, session, envelope):
        number = next(self.numbers)
        partial = os.path.join(self.folder, f".{number}.partial")
        with open(partial, "wb") as out:
            out.write(envelope.original_content or envelope.content)
        os.rename(partial, os.path.join(self.folder, f"{number:06}.eml"))
        return "250 Message accepted for delivery"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Store(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
