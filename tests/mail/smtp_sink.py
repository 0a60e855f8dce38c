#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd from PyPI).

Usage: smtp_sink.py PORT DIR [REFUSE]

Keeps each message it accepts as DIR/NNNN.eml, and answers the first REFUSE deliveries with
451 (try again later), writing DIR/refused-NNNN for each, so that a test can see a sender retry.
Runs until killed.
"""
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, refuse):
        self.directory = directory
        self.refuse = refuse
        self.accepted = 0
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.refuse:
            self.refused += 1
            open(os.path.join(self.directory, f"refused-{self.refused:04d}"), "w").close()
            return "451 4.3.0 Try again later"
        self.accepted += 1
        path = os.path.join(self.directory, f"{self.accepted:04d}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK"


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    refuse = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory, refuse), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
