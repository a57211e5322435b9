"""The messages both peer tests (gammu-smsd, smsd) send and receive through puente-sim: GSM
7-bit, UCS-2 Spanish and multipart texts, each unique so exactly-once is checkable."""

OUT = (
    ["Recordatorio %d: su cita es el lunes a las 9" % i for i in range(1, 11)]
    + ["Mensaje %d: ¿Cómo está? Vacunación mañana en la clínica, niños y niñas" % i
       for i in range(11, 21)]
    + ["Aviso largo %d: " % i + "La toma de presion arterial es importante para su salud. " * 4
       for i in range(21, 26)]
    + ["Información %d: " % i + "Recuerde traer su cartilla de vacunación y credencial. " * 2
       for i in range(26, 31)]
)

IN = (
    ["Respuesta %d: SI" % i for i in range(1, 5)]
    + ["Respuesta %d: ¿Qué día es la consulta? Gracias señora" % i for i in range(5, 8)]
    + ["Respuesta larga %d: " % i + "Mi hijo tiene fiebre desde ayer y no come bien. " * 4
       for i in range(8, 10)]
    + ["Respuesta larga 10: " + "Gracias por el aviso, ¿puedo ir el martes a la clínica? " * 3]
)

PHONE = "+5215512345678"
