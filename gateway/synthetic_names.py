"""Given and family names the synthetic member generator draws from: data only. Written from memory of
public lists of common names (the US Social Security Administration's most popular given names, the US
Census 2010 most common surnames, and the common Filipino and Spanish surnames listed on Wikipedia), a
mix a loyalty programme in Manila or Austin would see. Only ASCII, so e-mails can be made from them."""
from __future__ import annotations

GIVEN = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
    "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie",
    "Ronald", "Rebecca", "Jason", "Sharon", "Edward", "Laura", "Jeffrey", "Cynthia", "Ryan", "Kathleen",
    "Jacob", "Amy", "Gary", "Angela", "Nicholas", "Shirley", "Eric", "Anna", "Jonathan", "Ruth",
    "Juan", "Maria", "Jose", "Ana", "Luis", "Carmen", "Carlos", "Rosa", "Miguel", "Teresa",
    "Mark Anthony", "Mary Grace", "John Paul", "Kristine", "Jerome", "Angelica", "Rodel", "Jocelyn", "Ramon",
    "Maricel", "Noel", "Rowena", "Arnel", "Lorna", "Jun", "Marites", "Ely", "Divina", "Rey", "Lourdes",
    "Wei", "Mei", "Hiroshi", "Yuki", "Arjun", "Priya", "Omar", "Fatima", "Liam", "Olivia",
)

FAMILY = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Del Rosario", "Mendoza", "Villanueva", "Aquino", "Ramos",
    "Castillo", "Fernandez", "Dela Cruz", "Gomez", "Tan", "Lim", "Sy", "Go", "Mercado", "Pascual",
    "Aguilar", "Navarro", "Salazar", "Dizon", "Manalo", "Soriano", "Valdez", "Gutierrez", "Domingo", "Lacson",
    "Kim", "Park", "Chen", "Wang", "Li", "Zhang", "Tanaka", "Sato", "Patel", "Singh",
    "Khan", "Ali", "Murphy", "Kelly", "O'Brien", "Schmidt", "Muller", "Rossi", "Silva", "Costa",
)
