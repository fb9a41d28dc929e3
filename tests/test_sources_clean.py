"""The cleaner on the five real seeds: every junk line goes, every body line stays.

For each seed, two lists written out by hand from the seed file: ``JUNK`` (each line must be
reported in ``removed`` and be absent from the text) and ``BODY`` (each line, or sentence for
the one-paragraph Reuters wire, must be in the cleaned text). Lines are written as the cleaner
normalises them: one plain space between words (the seeds carry no-break spaces).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.sources.brief import split_brief
from publisher.sources.clean import LINE_RULES, clean, clean_text

SEEDS = Path(__file__).parent / "fixtures" / "seeds"

BRIEF_LINE = ("Make this article seo compatible,Let there be subheadings for the article, "
              "be in french, create at least 700 words")

CASES = {
    "000_26b4b37e47165035.txt": {
        "title": "",
        "junk": [
            # a contributor credit, not an article sentence (its name goes to Source.author)
            "Veronika Melkozerova a contribué à ce rapport.",
        ],
        "body": [
            'Le secrétaire général de l’OTAN, Jens Stoltenberg, demandera aux pays membres de l’OTAN d’envoyer des systèmes de défense aérienne supplémentaires en Ukraine, a déclaré le président ukrainien Volodymyr Zelenskyy.',
            'Zelensky a déclaré que dans le contexte des attaques russes attendues contre les infrastructures critiques, la possibilité de fournir des systèmes de défense aérienne supplémentaires par les États membres de l’OTAN avait été discutée.',
            '« Le secrétaire général a accepté de faire ses efforts pour nous aider, nous soutenir dans cette affaire, mobiliser les Etats membres de l’alliance », a-t-il déclaré.',
            'S’exprimant lors d’une conférence de presse conjointe à Kiev où Stoltenberg se rend jeudi, Stoltenberg a déclaré : « Aujourd’hui, vos forces avancent. » Cette visite intervient alors que les forces ukrainiennes poursuivent leur contre-offensive contre la Russie dans le but de récupérer les territoires occupés.',
            '« Ils font face à des combats acharnés, mais ils gagnent progressivement du terrain », a déclaré Stoltenberg.',
            'Stoltenberg a ajouté que l’OTAN avait obtenu 2,4 milliards d’euros de contrats pour des munitions visant à aider les pays alliés à reconstituer leurs stocks tout en aidant l’Ukraine. Ces accords, qui comprennent 1 milliard d’euros de commandes fermes, couvrent des armes telles que des missiles guidés antichar et de l’artillerie de 155 millimètres, a déclaré Stoltenberg aux côtés du président ukrainien.',
            '« La Russie est diminuée sur la scène mondiale, coupée des marchés internationaux, tenue à l’écart des sommets internationaux et réduite à chercher des armes auprès de régimes comme l’Iran et la Corée du Nord », a-t-il ajouté.',
            'Le dirigeant de l’OTAN a également souligné la contribution financière de l’Europe, alors que certains milieux du Parti républicain américain ont appelé à réduire leur soutien. Environ la moitié des près de 100 milliards d’euros de soutien militaire engagés en faveur de l’Ukraine depuis l’invasion russe proviennent des États-Unis, et l’autre moitié vient des pays européens alliés de l’OTAN et du Canada, a souligné Stoltenberg.',
            '« Il s’agit d’un effort collectif de tous les alliés de l’OTAN, avec un partage égal des charges », a-t-il déclaré.',
            'Par ailleurs, le nouveau secrétaire britannique à la Défense, Grant Shapps, a également rencontré Zelensky jeudi à Kiev.',
            '« Je suis retourné à Kiev cette semaine pour demander au président [Zelenskyy] ce dont il a besoin pour gagner », a écrit Shapps sur X, anciennement connu sous le nom de Twitter.',
        ],
    },
    "001_d05b7e9e265a6ab9.txt": {
        "title": "",
        "junk": [],                      # only the brief, which is split off, not "junk"
        "body": [
            'Le président ukrainien Volodymyr Zelenskyy a exhorté jeudi le secrétaire général de l’OTAN, Jens Stoltenberg, à inciter les membres de l’OTAN à obtenir davantage d’aide militaire, notamment des avions de guerre, de l’artillerie et des équipements blindés, avant la réunion de vendredi du Groupe de contact sur la défense de l’Ukraine avec le secrétaire américain à la Défense Lloyd Austin à la base aérienne de Ramstein en Allemagne.',
            'La réunion sur la plus grande base aérienne du monde en dehors des États-Unis est le principal forum international pour mobiliser le soutien militaire à l’Ukraine.',
            'Le chef de l’OTAN était à Kiev pour exprimer son soutien à l’adhésion de l’Ukraine à l’alliance dirigée par les États-Unis.',
            'Stoltenberg a déclaré jeudi avec défi que la « place légitime » de l’Ukraine était dans l’alliance militaire et a promis plus de soutien au pays lors de sa première visite à Kiev depuis l’invasion de la Russie il y a un peu plus d’un an.',
            'Stoltenberg a déclaré que lui et Zelenskyy avaient discuté d’un programme de soutien de l’OTAN à l’Ukraine.',
            '« Cela vous aidera à passer des équipements et des doctrines de l’ère soviétique aux normes de l’OTAN et à assurer une interopérabilité totale avec l’alliance », a déclaré Stoltenberg. « L’OTAN est à vos côtés aujourd’hui, demain et aussi longtemps qu’il le faudra. »',
            'Il a noté l’annonce faite jeudi par le Danemark et les Pays-Bas selon lesquels ils prévoyaient de fournir à l’Ukraine au moins 14 autres chars de combat Leopard 2 remis à neuf d’ici le début de 2024.',
            'Zelenskyy a suggéré que plus d’armes « répondront aux perspectives sur le champ de bataille » et assureront le retour de la paix en Ukraine et, par la suite, dans toute l’Europe.',
            '« L’agresseur doit être vaincu. Et c’est notre responsabilité commune avec nos partenaires : gagner plus de temps pour la paix, c’est-à-dire être aussi actifs que possible maintenant dans la fourniture d’armes et de munitions pour accélérer notre victoire commune », a-t-il souligné.',
            '« Nous comprenons cette visite du Secrétaire général, la première depuis la guerre à grande échelle, comme un signe que l’alliance est prête à entamer un nouveau chapitre dans les relations avec l’Ukraine », a déclaré Zelesnkyy.',
            # the seed ends this line with a stray ". ." which the cleaner folds into one "."
            '« Aujourd’hui, lors des négociations, nous avons parlé de quatre questions principales. La première est Rammstein. La réunion aura lieu demain. Et les décisions que nous attendons des partenaires. Tout d’abord, cela concerne le soutien armé de nos actions actives », a-t-il ajouté.',
            'L’alliance s’est concentrée sur le renforcement des défenses sur son propre territoire pour dissuader le président russe Vladimir Poutine d’attaquer un pays membre. En vertu de la garantie de sécurité collective de l’OTAN, une attaque contre un pays membre est considérée comme une attaque contre tous.',
            'Le porte-parole du Kremlin, Dmitri Peskov, a déclaré jeudi qu’empêcher l’Ukraine de rejoindre l’OTAN restait l’un des objectifs de ce que Moscou appelle son « opération militaire spéciale ». S’exprimant lors d’une conférence téléphonique avec des journalistes, Peskov a déclaré que l’adhésion de l’Ukraine constituerait une « menace sérieuse et significative pour notre pays, pour la sécurité de notre pays ».',
        ],
    },
    "002_367df188a69f6029.txt": {
        "title": 'Stoltenberg à Kiev déclare que les forces ukrainiennes gagnent "progressivement" du terrain',
        "junk": [
            'Sergei SUPINSKY / AFP - El presidente ucraniano, Volodymyr Zelensky (dcha.), y el secretario general de la OTAN, Jens Stoltenberg (izda.)',
            "photo_camera Sergei SUPINSKY / AFP - Le président ukrainien Volodymyr Zelensky (à droite) et le secrétaire général de l'OTAN Jens Stoltenberg (à gauche)",
            'Plus dans Politique',
        ],
        "body": [
            # the standfirst: a real sentence, kept as the lead (the shorter headline is the title)
            "Le secrétaire général de l'OTAN a rencontré Zelensky pour discuter de la situation de la contre-offensive et des besoins militaires des troupes ukrainiennes",
            "Le secrétaire général de l'OTAN, Jens Stoltenberg, a fait un voyage surprise à Kiev pour rencontrer le président ukrainien Volodymyr Zelensky et discuter de la situation de la contre-offensive dans l'est du pays.",
            'L\'homme politique norvégien s\'est montré optimiste quant à la situation, affirmant que les forces ukrainiennes regagnaient "progressivement" du terrain. Lors de la conférence de presse conjointe avec Zelensky, Stoltenberg a rappelé que "chaque mètre regagné par les forces ukrainiennes est un mètre perdu par la Russie", comme le rapporte Reuters.',
            'Il a également souligné la grande motivation des soldats ukrainiens, affirmant qu\'ils se battent "pour leurs familles, leur avenir et leur liberté" alors que Moscou "se bat pour des tromperies impériales".',
            'Dans la capitale ukrainienne, Stoltenberg a également condamné les attaques russes près de la frontière avec la Roumanie, membre de l\'OTAN, les qualifiant d\'"imprudentes" et de "déstabilisantes".',
            "Zelensky a quant à lui souligné la nécessité de renforcer les défenses aériennes pour faire face aux attaques russes, notant que Moscou avait utilisé plus de 40 drones iraniens Shahed lors d'attaques sur le territoire ukrainien la nuit précédente.",
            '"Et c\'est le cas presque tous les soirs", a déploré le dirigeant ukrainien, qui a expliqué qu\'en raison de ces attaques, "une augmentation correspondante de la pression sur la Russie et un renforcement correspondant du bouclier aérien" étaient nécessaires. "Nous devons surmonter cet hiver ensemble, afin de protéger nos infrastructures énergétiques et la vie de nos concitoyens", a ajouté Zelensky.',
            "Zelensky a également remercié les partenaires internationaux pour leur aide et leur soutien, déclarant que les résultats de la coopération avec l'OTAN étaient évidents. Il s'est notamment félicité de la livraison de chars de combat, d'avions et d'autres armes qui renforcent la défense de l'Ukraine.",
            'À cet égard, Stoltenberg a souligné qu\'il faisait "constamment pression" sur les alliés de l\'OTAN pour qu\'ils apportent un soutien accru à l\'Ukraine en accélérant l\'acheminement de l\'aide. Il a également annoncé que l\'OTAN avait conclu avec des entreprises d\'armement des contrats d\'une valeur de 2,4 milliards d\'euros (2,53 milliards de dollars) pour l\'achat de munitions.',
            "Selon le chef de l'OTAN, ces contrats permettront aux membres de l'Alliance de reconstituer leurs stocks tout en continuant à approvisionner l'Ukraine en munitions, un élément essentiel pour les forces nationales.",
            'S\'exprimant depuis Kiev, Stoltenberg a encouragé les membres de l\'OTAN et les partenaires internationaux à soutenir militairement les forces ukrainiennes. En effet, "plus l\'Ukraine sera forte, plus nous nous rapprocherons de la fin de l\'agression russe".',
            '"Moscou pourrait déposer les armes et mettre fin à sa guerre aujourd\'hui. L\'Ukraine n\'a pas cette possibilité. La capitulation de l\'Ukraine ne signifierait pas la paix. Elle signifierait une occupation russe brutale. La paix à tout prix ne serait pas la paix du tout", a-t-il ajouté.',
            "La visite de Stoltenberg à Kiev intervient juste un jour après que la Russie a accusé les partenaires occidentaux de l'Ukraine d'avoir aidé à planifier et à réaliser l'attaque au missile de la semaine dernière contre le quartier général de la flotte de la mer Noire dans la péninsule de Crimée annexée par Moscou.",
            "Selon la porte-parole du ministère russe des Affaires étrangères, Maria Zakharova, l'attaque a été menée avec l'aide des agences de sécurité américaines et britanniques. Selon la diplomate russe, les satellites et les avions de reconnaissance de l'OTAN ont également joué un rôle clé dans l'attaque.",
        ],
    },
    "003_b7a23fd024b318f7.txt": {
        "title": 'Les forces ukrainiennes "gagnent progressivement du terrain" dit Stoltenberg',
        "junk": [
            "date 2023-09",                   # a leaked date widget before the headline
            "Crédit photo © Reuters",
            # the wire's reporting credit: who wrote it, not what happened
            "(Reportage Andrew Gray; version française Victor Goury-Laffont et Mariana Abreu ; édité par Kate Entringer)",
        ],
        "body": [                             # one paragraph in the seed: sentence by sentence
            'KYIV (Reuters) - Les troupes ukrainiennes "gagnent progressivement du terrain" dans leur contre-offensive contre les forces russes, a déclaré jeudi le secrétaire général de l\'Otan, Jens Stoltenberg, lors d\'une visite surprise à Kyiv.',
            '"Chaque mètre gagné par les forces ukrainiennes est un mètre perdu par la Russie", a commenté Jens Stoltenberg, qui s\'exprimait lors d\'une conférence de presse conjointe avec le président ukrainien Volodimir Zelensky.',
            '"Le contraste est saisissant : Les Ukrainiens se battent pour leurs familles, leur avenir, leur liberté", a-t-il ajouté.',
            '"Moscou se bat pour des illusions impériales.',
            "De son côté, Volodimir Zelensky a souligné la nécessité pour l'Ukraine de renforcer sa défense aérienne contre les attaques russes, alors que Moscou a lancé plus de 40 drones Shahed sur le pays dans la nuit de mercredi à jeudi.",
            '"Il en va de même presque chaque nuit.',
            'Face à des attaques aussi intenses contre les Ukrainiens, contre nos villes et nos ports - qui sont importants pour la sécurité alimentaire mondiale -, nous devons accroître la pression sur la Russie et renforcer notre bouclier aérien en conséquence", a-t-il dit.',
            'Jens Stoltenberg a déclaré qu\'il "incitait constamment" les alliés de l\'Otan à apporter un soutien accru à l\'Ukraine et à accélérer la livraison, "notamment" de systèmes de défense aérienne.',
            "Il a également affirmé que l'organisation disposait désormais d'un ensemble de contrats-cadres avec des entreprises d'armement d'une valeur totale de 2,4 milliards d'euros pour des munitions essentielles, dont 1 milliard d'euros de commandes fermes.",
            "Ces contrats doivent permettre aux membres de l'Otan de reconstituer leurs stocks tout en continuant à fournir des munitions à l'Ukraine, a-t-il expliqué.",
            "Jens Stoltenberg a également condamné les frappes russes près de la frontière entre l'Ukraine et la Roumanie.",
            'Rien ne prouve qu\'il s\'agit d\'attaques délibérées contre la Roumanie, précise-t-il, les qualifiant néanmoins d\'"imprudentes" et "déstabilisantes".',
        ],
    },
    "004_a76a775972527e78.txt": {
        "title": "Jens Stoltenberg veut s'assurer que les membres de l’OTAN aideront l’Ukraine sur le long terme",
        "junk": [
            "Newsletter Newsletters Events Évènements Podcasts Vidéos Africanews",
            "Loader",
            "Suivez-nous",
            "Publicité",
            "a",
            "a Tous droits réservés EBU",
            "Tous droits réservés EBU",
            "Par Euronews avec Shona Murray",
            "Publié le Mis à jour",
            "Partager cet article Discussion",
            "Partager cet article Close Button",
            "Copier/coller le lien embed de la vidéo de l'article : Copy to clipboard Lien copié",
            "PUBLICITÉ",
            "Accéder aux raccourcis d'accessibilité",
            "À découvrir également",
            "Jens Stoltenberg a rencontré le secrétaire à la Défense américain",
            "Mark Rutte devrait être le prochain chef de l'OTAN après le retrait de Klaus Iohannis",
            "La décision de l'UE sur l'objectif climatique 2040 sera retardée, selon des diplomates",
        ],
        "body": [
            "Les ministres de la Défense de l'Alliance se sont réunis à Bruxelles pour évoquer le soutien à Kyiv.",
            'En présence notamment du secrétaire d’Etat américain à la Défense, Lloyd Austin, les ministres de la Défense des pays membres de l’OTAN, se sont réunis à Bruxelles. Une dernière réunion avant un grand sommet prévu en juillet à Washington.',
            "Au cœur des discussions, l’Ukraine, dont l'armée est en difficulté face aux troupes russes. Alors que cette guerre dure depuis deux ans, Jens Stoltenberg veut s’assurer que les pays de l’Alliance maintiendront leur aide militaire à Kyiv sur le long terme.",
            '"Depuis l\'invasion de l\'Ukraine par la Russie, les alliés ont fourni un soutien militaire d\'une valeur de 40 milliards d\'euros par an. J\'ai proposé que nous maintenions ce niveau de soutien aussi longtemps qu\'il le faudra. Et que les alliés partagent équitablement ce fardeau", a déclaré le secrétaire général de l\'OTAN.',
            "L'objectif principal de l'OTAN pour l'Ukraine est une aide dans la durée. Jens Stoltenberg a déclaré qu'il fallait mettre fin aux lacunes et aux retards dans le transfert des armes.",
            "Ces six derniers mois ont été très difficiles pour le pays, la Russie s'est emparée d'encore plus de territoires. Les ministres de la Défense ont également discuté de la formation des soldats ukrainiens et d'une aide financière, tout cela en prélude au grand sommet des chefs d'État et de gouvernement qui se tiendra en juillet à Washington.",
        ],
    },
}


def clean_seed(name: str):
    """What load does with a seed: split the brief off, then clean the rest."""
    raw = (SEEDS / name).read_text(encoding="utf-8")
    _, rest = split_brief(raw)
    return clean(rest)


def paragraph_lines(text: str) -> list[str]:
    return [p for p in text.split("\n\n")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_junk_line_is_removed(name):
    cleaned = clean_seed(name)
    for junk in CASES[name]["junk"]:
        assert junk in cleaned.removed, f"{name}: not reported as removed: {junk!r}"
        if len(junk.split()) > 1:       # a lone "a" is, of course, inside words of the body
            assert junk not in cleaned.text, f"{name}: still in the text: {junk!r}"
    assert "a" not in paragraph_lines(cleaned.text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_body_line_is_kept(name):
    cleaned = clean_seed(name)
    for line in CASES[name]["body"]:
        assert line in cleaned.text, f"{name}: body line lost: {line[:70]!r}…"


@pytest.mark.parametrize("name", sorted(CASES))
def test_nothing_else_is_removed(name):
    """``removed`` holds exactly the listed junk: no body line slipped into it."""
    cleaned = clean_seed(name)
    assert sorted(set(cleaned.removed)) == sorted(set(CASES[name]["junk"]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_title_is_the_headline(name):
    text, removed, title = clean_text(split_brief((SEEDS / name).read_text("utf-8"))[1])
    assert title == CASES[name]["title"]
    if title:
        assert title not in text.split("\n\n")   # the title left the body…
        assert title not in removed              # …but is not junk either


@pytest.mark.parametrize("name", sorted(CASES))
def test_paragraphs_are_separated_by_one_blank_line(name):
    text = clean_seed(name).text
    assert "\n\n\n" not in text and "\xa0" not in text and "  " not in text
    assert all(p == p.strip() and p for p in text.split("\n\n"))


def test_brief_line_never_reaches_the_text():
    for name in ("000_26b4b37e47165035.txt", "001_d05b7e9e265a6ab9.txt"):
        assert BRIEF_LINE not in clean_seed(name).text


def test_credits_become_metadata():
    assert clean_seed("000_26b4b37e47165035.txt").author == "Veronika Melkozerova"
    reuters = clean_seed("003_b7a23fd024b318f7.txt")
    assert (reuters.author, reuters.site_name, reuters.date) == ("Andrew Gray", "Reuters", "2023-09")
    assert reuters.text.startswith("KYIV (Reuters) - ")       # the dateline stays in the text
    euronews = clean_seed("004_a76a775972527e78.txt")
    assert (euronews.author, euronews.site_name) == ("Shona Murray", "Euronews")


# --- the rules generalise: same kinds of junk, other sites' wording ---------------------------

OTHER_SITES_JUNK = [
    "Publicité",
    "Contenu sponsorisé",
    "Partager sur Facebook",
    "Facebook Twitter LinkedIn E-mail",
    "Accueil International Europe Vidéos Podcasts Newsletter",
    "Inscrivez-vous à notre newsletter gratuite",
    "Lecture : 4 min",
    "Suivez-nous sur Instagram",
    "Lien copié",
    "Aller au contenu principal",
    "Photo : AFP",
    "Crédits photo : Reuters/Gleb Garanich",
    "Crédit : AFP",
    "Copyright 2023 Le Courrier",
    "© Gleb Garanich / Reuters",
    "Genya SAVILOV / AFP",
    "Le président Zelensky à Kiev, le 28 septembre 2023. © Sergei Supinsky / AFP",
    "Par Claire Martin",
    "Par Le Courrier avec Paul Durand et Anne Petit",
    "Publié le 28/09/2023 à 18h42 Mis à jour le 28/09/2023 à 20h05",
    "Mis à jour le jeudi 28 septembre 2023",
    "Lire aussi : Ramstein, les alliés promettent de nouveaux chars",
    "***",
    # Le Monde, France 24, 20 Minutes, BFM-style furniture
    "Le Monde avec AFP",
    "E.B. avec AFP",
    "Texte par : FRANCE 24",
    "Publié aujourd’hui à 10h32, modifié à 11h05",
    "Publié le : 28/09/2023 - 18:42 Modifié le : 28/09/2023 - 20:05",
    "Le 28/09/2023 à 18:42",
    "Lecture 3 min.",
    "2 mn",
    "Article réservé aux abonnés",
    "Vous avez lu 3 articles gratuits",
    "Ajouter à vos sélections",
    "Lire plus tard",
    "Commentaires (12)",
    "Tags : OTAN, Ukraine",
    "Jens Stoltenberg, à Kiev, le 28 septembre 2023. SERGEI SUPINSKY / AFP",
    "Image d'illustration. (Photo by Sergei SUPINSKY / AFP)",
    "AFP",
    "La rédaction",
    "Lire aussi | Ramstein : les alliés promettent de nouveaux chars",
    "LIRE AUSSI >> Ramstein : les alliés promettent de nouveaux chars",
]


@pytest.mark.parametrize("junk", OTHER_SITES_JUNK)
def test_junk_from_other_sites_is_caught(junk):
    body = ("Le secrétaire général de l'OTAN s'est rendu jeudi à Kiev pour une visite surprise.\n"
            f"{junk}\n"
            "Il a annoncé 2,4 milliards d'euros de contrats de munitions pour les alliés.")
    cleaned = clean(body)
    assert junk in cleaned.removed
    assert junk not in cleaned.text
    assert cleaned.text.count("\n\n") == 1


KEPT_LOOKALIKES = [
    # body sentences that start like junk or mention the same words: all must stay
    "Par ailleurs, la Russie a lancé plus de 40 drones sur le pays.",
    "Publié le 3 mars, le rapport de l'OTAN montre une hausse des dépenses militaires de 11 %.",
    "Partager le fardeau de l'aide entre les alliés reste la priorité de Jens Stoltenberg.",
    "Plus de 40 drones Shahed ont été lancés dans la nuit de mercredi à jeudi.",
    "La newsletter du ministère a cessé de paraître après l'invasion.",
    "Suivez les déclarations de Jens Stoltenberg, a lancé le ministre aux journalistes.",
    "Lire aussi les conclusions du sommet, a conseillé le porte-parole.",
    "Le Kremlin a dénoncé une visite « provocatrice » (Dmitri Peskov, porte-parole).",
    "Des munitions pour les alliés et pour Kiev",          # an intertitle
    "Partager le fardeau",                                # an intertitle
    "Crédits : une hausse de 3 % pour la défense",        # budget credits, not photo credits
    "Le copyright des images satellites en question",
    "Photographier la guerre",
    "24 février 2022",                                    # a timeline heading
    "Jeudi 28 septembre",
    "Les ministres ont parlé avec AFP et Reuters jeudi à Bruxelles.",
    "Sujets de discorde entre alliés",
    "Le Monde selon Poutine",
    "Lecture difficile pour Moscou",
    "Réservé aux alliés ?",
]


@pytest.mark.parametrize("line", KEPT_LOOKALIKES)
def test_lookalike_body_lines_are_kept(line):
    body = ("Le secrétaire général de l'OTAN s'est rendu jeudi à Kiev pour une visite surprise.\n"
            f"{line}\n"
            "Il a annoncé 2,4 milliards d'euros de contrats de munitions pour les alliés.")
    cleaned = clean(body)
    assert line in cleaned.text
    assert cleaned.removed == ()


def test_related_links_in_mid_page_do_not_swallow_the_body():
    text = ("Le secrétaire général de l'OTAN s'est rendu jeudi à Kiev pour une visite surprise.\n\n"
            "À lire aussi\n\nRamstein : les alliés promettent de nouveaux chars\n\n"
            "Un soutien sur le long terme\n\n"
            "Il a annoncé 2,4 milliards d'euros de contrats de munitions pour les alliés.")
    cleaned = clean(text)
    assert cleaned.removed == ("À lire aussi", "Ramstein : les alliés promettent de nouveaux chars")
    assert "Un soutien sur le long terme" in cleaned.text
    assert cleaned.text.endswith("contrats de munitions pour les alliés.")


def test_hard_wrapped_lines_are_joined_and_whitespace_normalised():
    raw = ("Le secrétaire général de l'OTAN s'est rendu\u00a0jeudi à Kiev\r\n"
           "pour une visite   surprise.\r\nIl a annoncé des contrats\u202f: 2,4 milliards.\u200b")
    text, removed, title = clean_text(raw)
    assert text == ("Le secrétaire général de l'OTAN s'est rendu jeudi à Kiev pour une visite "
                    "surprise.\n\nIl a annoncé des contrats : 2,4 milliards.")
    assert (removed, title) == ((), "")


def test_every_rule_is_documented():
    names = [rule.name for rule in LINE_RULES]
    assert len(names) == len(set(names))
    assert all(rule.why for rule in LINE_RULES)
