"""The chat page in headless Chromium (Debian's chromium + chromium-driver,
driven by selenium): type a message, see the answer arrive in pieces, save a
screenshot under build/test-artifacts/."""
import os
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT

DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1000,700"):
        options.add_argument(flag)
    chromium = shutil.which("chromium")
    if chromium:
        options.binary_location = chromium
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_chat_page_streams_an_answer(server, browser):
    browser.get(server.base + "/")
    box = browser.find_element(By.ID, "input")
    box.send_keys("Who was the king?")
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 60).until(
        lambda d: "done" in d.find_element(By.ID, "answer-1").get_attribute("class").split())
    answer = browser.find_element(By.ID, "answer-1")
    assert answer.text.startswith("bitnet: ") and len(answer.text) > len("bitnet: ")
    assert int(answer.get_attribute("data-chunks")) > 1  # rendered event by event
    assert browser.find_element(By.CLASS_NAME, "user").text == "you: Who was the king?"
    artifacts = os.path.join(ROOT, "build", "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    path = os.path.join(artifacts, "chat-page.png")
    assert browser.save_screenshot(path) and os.path.getsize(path) > 1000
