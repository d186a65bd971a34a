"""Short files (4 KB or less) in single-byte code pages: the code-page corpus of issue 22.

Each file holds natural sentences of one language (short reviews, labelled pos/neg), written in a legacy
code page as Excel, Notepad or an old export would. ``ENOUGH`` files hold 20 to 50 letters beyond ASCII
(the loader must read them in the right page and say so plainly); ``SHORT`` files hold fewer (it must
say its guess is uncertain, which page it used and how to choose another).

Rewrite the committed files under tests/data/codepages/ with ``python tests/data/make_codepages.py``;
tests/io/test_codepages.py checks that they match this script.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

HERE = Path(__file__).parent / "codepages"

Rows = tuple[tuple[str, str], ...]

# name -> (code page, rows). The extension picks the format.
ENOUGH: dict[str, tuple[str, Rows]] = {
    "cp1250_czech.csv": ("cp1250", (
        ("Služba byla vynikající, moc děkuji.", "pos"),
        ("Let měl tři hodiny zpoždění, hrůza.", "neg"),
        ("Zboží přišlo rozbité a nefunguje.", "neg"),
        ("Jídlo bylo chutné a obsluha příjemná.", "pos"),
        ("Pokoj byl čistý, ale postel byla tvrdá.", "neg"),
        ("Doprava byla rychlá a levná, určitě doporučuji.", "pos"),
    )),
    "cp1250_hungarian.csv": ("cp1250", (
        ("A kiszolgálás kiváló volt, köszönöm szépen.", "pos"),
        ("A járat három órát késett, borzasztó.", "neg"),
        ("A termék törötten érkezett, és nem működik.", "neg"),
        ("Az étel finom volt, a pincér kedves és gyors.", "pos"),
        ("Nem ajánlom senkinek, drága és rossz minőségű.", "neg"),
    )),
    "iso8859-2_polish.csv": ("iso8859-2", (
        ("Obsługa była świetna, dziękuję bardzo.", "pos"),
        ("Lot był opóźniony o trzy godziny.", "neg"),
        ("Towar przyszedł uszkodzony i nie działa.", "neg"),
        ("Jedzenie było pyszne, na pewno wrócę.", "pos"),
        ("Pokój był czysty, ale łóżko niewygodne.", "neg"),
        ("Szybka dostawa, wszystko zgodne z opisem, polecam gorąco.", "pos"),
        ("Źle zapakowane, pudełko całe pogniecione.", "neg"),
    )),
    "cp1251_russian.csv": ("cp1251", (
        ("Отличный сервис, спасибо!", "pos"),
        ("Рейс задержали, ужасно.", "neg"),
    )),
    "cp1251_ukrainian.tsv": ("cp1251", (
        ("Дуже дякую, все чудово!", "pos"),
        ("Погана якість, не раджу.", "neg"),
    )),
    "cp1251_bulgarian.jsonl": ("cp1251", (
        ("Много съм доволен.", "pos"),
        ("Обслужването беше ужасно.", "neg"),
    )),
    "koi8-r_russian.csv": ("koi8-r", (
        ("Погода хорошая, идём гулять.", "pos"),
        ("Поезд опоздал на час.", "neg"),
    )),
    "iso8859-5_russian.csv": ("iso8859-5", (
        ("Книга интересная, читается легко.", "pos"),
        ("Всё плохо.", "neg"),
    )),
    "cp1252_french.csv": ("cp1252", (
        ("Le café était très bon, merci beaucoup.", "pos"),
        ("Très déçu, la crème brûlée était froide.", "neg"),
        ("Le vol a été retardé de trois heures.", "neg"),
        ("Accueil chaleureux, hôtel à côté de la gare.", "pos"),
        ("Prix élevé pour une qualité médiocre.", "neg"),
        ("Je n'ai reçu qu'une fenêtre cassée, déçu.", "neg"),
    )),
    "cp1252_german.csv": ("cp1252", (
        ("Der Service war großartig, vielen Dank!", "pos"),
        ("Das Essen war kalt und überteuert.", "neg"),
        ("Die Lieferung kam pünktlich, alles in Ordnung.", "pos"),
        ("Ich würde dieses Hotel nicht empfehlen, zu laut.", "neg"),
        ("Sehr freundliches Personal, gemütliche Zimmer und schöne Aussicht.", "pos"),
        ("Leider völlig enttäuscht, die Größe stimmt nicht.", "neg"),
        ("Schnelle Rückerstattung, danke für die Mühe.", "pos"),
        ("Über drei Stunden Verspätung, äußerst ärgerlich.", "neg"),
        ("Das Frühstück war köstlich und reichhaltig.", "pos"),
    )),
    "latin-1_spanish.csv": ("latin-1", (
        ("El niño comió jalapeños en la montaña.", "pos"),
        ("La atención fue rápida y muy amable.", "pos"),
        ("¡Qué desastre! El vuelo salió tarde.", "neg"),
        ("Volveré pronto, la comida estaba riquísima.", "pos"),
        ("No recomiendo este hotel, la habitación olía mal.", "neg"),
        ("Excelente relación calidad-precio, muy cómodo.", "pos"),
        ("El envío tardó dos semanas, qué decepción.", "neg"),
        ("Todo llegó perfecto, gracias por la atención.", "pos"),
        ("Señora muy simpática, aunque el baño estaba sucio.", "neg"),
    )),
    "cp1252_portuguese.json": ("cp1252", (
        ("O atendimento foi ótimo, obrigado.", "pos"),
        ("A comida estava péssima e fria.", "neg"),
        ("Não gostei da demora na entrega.", "neg"),
        ("O avião atrasou três horas, que decepção.", "neg"),
        ("Ótima localização, quarto limpo e confortável.", "pos"),
        ("Produto chegou quebrado, não recomendo a ninguém.", "neg"),
        ("Preço justo e entrega rápida, estou satisfeito.", "pos"),
        ("Funcionários atenciosos, voltarei com certeza.", "pos"),
        ("A água da piscina estava suja, péssima experiência.", "neg"),
        ("Não há sabão no banheiro, lamentável.", "neg"),
    )),
    "cp1253_greek.csv": ("cp1253", (
        ("Το φαγητό ήταν νόστιμο.", "pos"),
        ("Κακή εξυπηρέτηση.", "neg"),
    )),
    "cp1254_turkish.csv": ("cp1254", (
        ("Hizmet çok iyiydi, teşekkür ederim.", "pos"),
        ("Uçuş üç saat gecikti, çok kötü.", "neg"),
        ("Ürün kırık geldi ve çalışmıyor.", "neg"),
        ("Yemekler lezzetliydi, kesinlikle tekrar geleceğim.", "pos"),
        ("Oda temiz ama yatak çok rahatsızdı.", "neg"),
    )),
    "cp1255_hebrew.csv": ("cp1255", (
        ("השירות היה מצוין, תודה רבה.", "pos"),
        ("המוצר הגיע שבור.", "neg"),
    )),
    "cp1256_arabic.csv": ("cp1256", (
        ("الخدمة ممتازة، شكرا جزيلا.", "pos"),
        ("تأخرت الرحلة كثيرا.", "neg"),
    )),
    "cp1257_lithuanian.csv": ("cp1257", (
        ("Labai ačiū už greitą pristatymą, viskas puiku!", "pos"),
        ("Aptarnavimas buvo puikus, tikrai sugrįšiu.", "pos"),
        ("Skrydis vėlavo tris valandas, siaubinga.", "neg"),
        ("Prekė atkeliavo sugadinta ir neveikia.", "neg"),
        ("Žmonės buvo labai malonūs ir paslaugūs.", "pos"),
        ("Maistas šaltas, o kaina per didelė.", "neg"),
        ("Kambarys švarus, bet lova nepatogi ir triukšminga.", "neg"),
        ("Nerekomenduočiau šios parduotuvės niekam.", "neg"),
        ("Puiki kokybė, greitas pristatymas, ačiū.", "pos"),
    )),
    "cp1257_latvian.csv": ("cp1257", (
        ("Paldies par ātru piegādi, viss ir lieliski!", "pos"),
        ("Ēdiens bija garšīgs, noteikti atgriezīšos.", "pos"),
        ("Lidojums kavējās trīs stundas, šausmīgi.", "neg"),
        ("Prece atnāca saplīsusi un nedarbojas.", "neg"),
        ("Apkalpošana bija laipna un ātra.", "pos"),
        ("Istaba bija tīra, bet gulta ļoti cieta.", "neg"),
        ("Neiesaku nevienam, kvalitāte ir drausmīga.", "neg"),
        ("Cena atbilst kvalitātei, esmu apmierināts.", "pos"),
    )),
}

# Fewer than 20 letters beyond ASCII: too little to tell some pages apart.
SHORT: dict[str, tuple[str, Rows]] = {
    "short_cp1251.csv": ("cp1251", (("Да, спасибо.", "pos"), ("Плохо.", "neg"))),
    "short_cp1255.csv": ("cp1255", (("שלום עולם", "pos"), ("לא טוב", "neg"))),
    "short_cp1252.csv": ("cp1252", (("Très bon café", "pos"), ("Déçu", "neg"))),
    "short_cp1250.csv": ("cp1250", (("Děkuji, skvělé.", "pos"), ("Špatné.", "neg"))),
    "short_cp1253.csv": ("cp1253", (("Ευχαριστώ πολύ", "pos"), ("Κακό", "neg"))),
    "short_cp1256.csv": ("cp1256", (("شكرا", "pos"), ("سيء", "neg"))),
}

ALL = {**ENOUGH, **SHORT}


def text_of(name: str, rows: Rows) -> str:
    """The file's content as text, in the format its extension names."""
    ext = Path(name).suffix
    if ext == ".json":
        return json.dumps([{"text": t, "label": lab} for t, lab in rows], ensure_ascii=False, indent=1) + "\n"
    if ext == ".jsonl":
        return "".join(json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n" for t, lab in rows)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter="\t" if ext == ".tsv" else ",", lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return buf.getvalue()


def files() -> dict[str, bytes]:
    """name -> bytes of every committed code-page file."""
    return {name: text_of(name, rows).encode(encoding) for name, (encoding, rows) in ALL.items()}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, data in files().items():
        assert len(data) <= 4096, name
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
