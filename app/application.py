"""Application start-up: arguments, QApplication, theme, the main window.

``python main.py [PATH] [--screenshot FILE]``: PATH may be a video file, an image folder, a
dataset sequence folder or a session file. ``--screenshot`` saves a grab of the window once the
first frame is on screen and quits (for documentation and for checking the app on a headless
machine under Xvfb).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.long_lived import freeze_startup_objects
from app.main_window import APP_NAME, MainWindow
from app.settings import AppSettings
from app.theme import app_icon, apply_theme


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python main.py", description=APP_NAME)
    parser.add_argument(
        "path", nargs="?", help="video file, image folder, dataset sequence or session.json"
    )
    parser.add_argument("--workspace", type=Path, help="folder for sessions and exports")
    parser.add_argument(
        "--settings", type=Path, help="INI file to use instead of the user's settings"
    )
    parser.add_argument(
        "--theme", choices=("dark", "light"), help="theme for this run (remembered)"
    )
    parser.add_argument("--frame", type=int, help="start at this frame (1-based)")
    parser.add_argument("--zoom", type=float, help="zoom factor after opening (e.g. 4)")
    parser.add_argument("--screenshot", type=Path, help="save a grab of the window and quit")
    parser.add_argument("--size", default="1400x900", help="window size WxH (default 1400x900)")
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("COST")
    app.setWindowIcon(app_icon())
    settings = AppSettings(args.settings)
    if args.theme:
        settings.theme = args.theme
    apply_theme(app, settings.theme)
    window = MainWindow(settings, workspace=args.workspace)
    freeze_startup_objects()
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    if args.frame:
        window.firstFrameShown.connect(lambda: window.navigator.go_to(args.frame - 1))
    if args.screenshot:
        _arrange_screenshot(app, window, args)
    if args.path:
        if args.screenshot:
            window.session.ask_resume = lambda result: True
        window.open_path(args.path)
    elif args.screenshot:
        QTimer.singleShot(500, lambda: _grab_and_quit(app, window, args.screenshot))
    return app.exec()


def _arrange_screenshot(app: QApplication, window: MainWindow, args: argparse.Namespace) -> None:
    def on_first_frame() -> None:
        if args.zoom:
            box = window.view.box_item.rect()
            anchor = window.view.image_to_view(box.center()) if box is not None else None
            window.view.set_zoom(args.zoom, anchor)
        # give the view a moment to show the requested frame before grabbing
        QTimer.singleShot(800, lambda: _grab_and_quit(app, window, args.screenshot))

    window.firstFrameShown.connect(on_first_frame)
    window.session.openFailed.connect(lambda _m: _grab_and_quit(app, window, args.screenshot))


def _grab_and_quit(app: QApplication, window: MainWindow, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(path))
    print(f"screenshot {'saved' if ok else 'FAILED'}: {path}", file=sys.stderr)
    window.close()
    app.exit(0 if ok else 1)
